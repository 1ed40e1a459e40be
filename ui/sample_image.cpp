// sample_image.cpp
#include "sample_image.h"

#include <QImage>

#include <algorithm>

namespace ssui {

QPixmap sample_pixmap(const ss::Dataset& d, int index, int side, int zoom) {
    QImage img(side, side, QImage::Format_Grayscale8);
    const float* p = d.sample(index);
    for (int y = 0; y < side; ++y) {
        uchar* row = img.scanLine(y);
        for (int x = 0; x < side; ++x) row[x] = uchar(std::clamp(p[size_t(y) * size_t(side) + size_t(x)], 0.0f, 255.0f));
    }
    return QPixmap::fromImage(img.scaled(side * zoom, side * zoom, Qt::IgnoreAspectRatio, Qt::FastTransformation));
}

} // namespace ssui
