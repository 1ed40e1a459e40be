// test_idx.cpp - IDX parsing (raw and gzip), its errors, and the real Fashion-MNIST test split.
#include "dataset.h"
#include "error.h"
#include "idx_dataset.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

using namespace ss;

namespace {
std::vector<uint8_t> idx(uint8_t ndims, std::vector<uint32_t> dims, const std::vector<uint8_t>& values) {
    std::vector<uint8_t> b = {0, 0, 0x08, ndims};
    for (uint32_t d : dims) {
        b.push_back(uint8_t(d >> 24));
        b.push_back(uint8_t(d >> 16));
        b.push_back(uint8_t(d >> 8));
        b.push_back(uint8_t(d));
    }
    b.insert(b.end(), values.begin(), values.end());
    return b;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& b) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, b.data(), unsigned(b.size()));
    gzclose(f);
}

QString error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}
} // namespace

class TestIdx : public QObject {
    Q_OBJECT
private slots:
    void readsGzipPair() {
        QTemporaryDir dir;
        const std::string images = dir.filePath("t10k-images-idx3-ubyte.gz").toStdString();
        const std::string labels = dir.filePath("t10k-labels-idx1-ubyte.gz").toStdString();
        // 3 images of 2x2.
        write_gz(images, idx(3, {3, 2, 2}, {0, 1, 2, 3, 10, 11, 12, 13, 255, 254, 253, 252}));
        write_gz(labels, idx(1, {3}, {4, 0, 7}));
        const Dataset d = load_dataset(dir.path().toStdString());
        QCOMPARE(d.count, 3);
        QCOMPARE(d.features, 4);
        QCOMPARE(d.num_classes, 8);
        QCOMPARE(d.labels, (std::vector<int>{4, 0, 7}));
        QCOMPARE(d.sample(1)[2], 12.0f);
        QCOMPARE(d.sample(2)[0], 255.0f);
    }

    void readsRawImagesFileAndFindsLabels() {
        QTemporaryDir dir;
        test_support::write_bytes(dir.filePath("x-images-idx3-ubyte").toStdString(), idx(3, {1, 1, 3}, {5, 6, 7}));
        test_support::write_bytes(dir.filePath("x-labels-idx1-ubyte").toStdString(), idx(1, {1}, {2}));
        const Dataset d = load_dataset(dir.filePath("x-images-idx3-ubyte").toStdString());
        QCOMPARE(d.count, 1);
        QCOMPARE(d.features, 3);
        QCOMPARE(d.labels[0], 2);
    }

    void errorsNameTheFileAndRule() {
        QTemporaryDir dir;
        const std::string images = dir.filePath("a-images-idx3-ubyte").toStdString();
        const std::string labels = dir.filePath("a-labels-idx1-ubyte").toStdString();
        test_support::write_bytes(images, idx(3, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7})); // one value short
        test_support::write_bytes(labels, idx(1, {2}, {0, 1}));
        QString err = error_of([&] { load_idx_pair(images, labels); });
        QVERIFY2(err.contains("a-images-idx3-ubyte: IDX header promises 8 values but the file holds 7"), qPrintable(err));

        test_support::write_bytes(images, idx(3, {2, 1, 1}, {1, 2}));
        test_support::write_bytes(labels, idx(1, {3}, {0, 1, 1}));
        err = error_of([&] { load_idx_pair(images, labels); });
        QVERIFY2(err.contains("holds 3 labels but") && err.contains("holds 2 images"), qPrintable(err));

        test_support::write_bytes(images, {0x1f, 0x8b, 0x08, 0x00, 0x00});
        err = error_of([&] { load_idx_pair(images, labels); });
        QVERIFY2(err.contains("gzip"), qPrintable(err));

        test_support::write_bytes(images, {'P', 'K', 3, 4, 0, 0});
        err = error_of([&] { load_idx_pair(images, labels); });
        QVERIFY2(err.contains("two zero bytes"), qPrintable(err));

        err = error_of([&] { load_dataset(dir.filePath("missing").toStdString()); });
        QVERIFY2(err.contains("no such file"), qPrintable(err));
    }

    void truncatedGzipIsAnError() {
        QTemporaryDir dir;
        const std::string images = dir.filePath("t-images-idx3-ubyte.gz").toStdString();
        std::vector<uint8_t> big(4000);
        for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7919 % 251);
        write_gz(images, idx(3, {10, 20, 20}, big));
        auto bytes = test_support::read_bytes(images);
        bytes.resize(bytes.size() / 2);
        test_support::write_bytes(images, bytes);
        const QString err = error_of([&] { load_idx_pair(images, images); });
        QVERIFY2(err.contains("truncated"), qPrintable(err));
    }

    void fashionMnistTestSplit() {
        const Dataset d = load_dataset(kDefaultDatasetDir);
        QCOMPARE(d.count, 10000);
        QCOMPARE(d.features, 784);
        QCOMPARE(d.num_classes, 10);
        QCOMPARE(d.labels[0], 9); // the first test image is an ankle boot
        std::vector<int> per_class(10, 0);
        for (int l : d.labels) ++per_class[size_t(l)];
        QCOMPARE(per_class, std::vector<int>(10, 1000));
    }

    void mismatchedModelIsRefusedWithBothNumbers() {
        Dataset d;
        d.source_path = "data";
        d.features = 784;
        d.num_classes = 10;
        const QString err = error_of([&] { check_dataset_matches(d, 4, 10, "tiny"); });
        QVERIFY2(err.contains("784 features") && err.contains("expects 4"), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestIdx)
#include "test_idx.moc"
