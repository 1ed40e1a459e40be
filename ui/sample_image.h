// sample_image.h - one sample of an image dataset as a picture: (side, side) values as stored
// (0..255 for image sets; clamped), grayscale, scaled up `zoom` times without smoothing.
#pragma once

#include "data/dataset.h"

#include <QPixmap>

namespace ssui {

QPixmap sample_pixmap(const ss::Dataset& d, int index, int side, int zoom);

} // namespace ssui
