// test_datasets.cpp - IDX (raw and gzip), CSV and NPY datasets, their errors, fingerprints, and
// the real Fashion-MNIST test split.
#include "data/dataset.h"
#include "data/class_names.h"
#include "error.h"
#include "data/csv_dataset.h"
#include "data/idx_dataset.h"
#include "data/npy_dataset.h"
#include "formats/sha256.h"
#include "formats/byte_source.h"
#include "formats/file_io.h"
#include "test_support.h"

#include <sys/stat.h>

#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <functional>

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

QString error_of(const std::function<void()>& f) { return QString::fromStdString(test_support::error_message(f)); }
void write_text(const std::string& path, const std::string& text) {
    test_support::write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// A .npy file (format 1.0) with the given descr and shape and raw little-endian data.
void write_npy(const std::string& path, const std::string& descr, const std::string& shape, const std::vector<uint8_t>& data,
               bool fortran = false) {
    std::string h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(h.size() & 0xff), uint8_t(h.size() >> 8)};
    b.insert(b.end(), h.begin(), h.end());
    b.insert(b.end(), data.begin(), data.end());
    test_support::write_bytes(path, b);
}

template <class T>
std::vector<uint8_t> le_bytes(std::initializer_list<T> values) {
    std::vector<uint8_t> out;
    for (T v : values) {
        uint8_t b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));
        out.insert(out.end(), b, b + sizeof(T));
    }
    return out;
}
} // namespace

class TestDatasets : public QObject {
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

    void brokenTestSplitIsNeverReplacedByTrain() {
        // A directory with a damaged t10k file and a good train split: the evaluation must fail
        // naming the damaged file, not quietly evaluate the training images (issue 13).
        QTemporaryDir dir;
        write_gz(dir.filePath("train-images-idx3-ubyte.gz").toStdString(), idx(3, {2, 1, 2}, {1, 2, 3, 4}));
        write_gz(dir.filePath("train-labels-idx1-ubyte.gz").toStdString(), idx(1, {2}, {0, 1}));
        write_gz(dir.filePath("t10k-images-idx3-ubyte.gz").toStdString(), idx(3, {5, 1, 2}, {1, 2, 3})); // 10 values claimed, 3 present
        write_gz(dir.filePath("t10k-labels-idx1-ubyte.gz").toStdString(), idx(1, {5}, {0, 1, 0, 1, 0}));
        const QString err = error_of([&] { load_dataset(dir.path().toStdString()); });
        QVERIFY2(err.contains("t10k-images-idx3-ubyte.gz") && err.contains("ends early"), qPrintable(err));
        // Without a test split the train split is the dataset, and its name says so.
        QFile::remove(dir.filePath("t10k-images-idx3-ubyte.gz"));
        QFile::remove(dir.filePath("t10k-labels-idx1-ubyte.gz"));
        const Dataset d = load_dataset(dir.path().toStdString());
        QCOMPARE(d.count, 2);
        QVERIFY(d.source_path.ends_with("(train)"));
    }

    void fifoIsRefusedNotWaitedOn() {
        // A FIFO given as dataset, model or tokenizer used to block forever in open() (issue 13).
        QTemporaryDir dir;
        const std::string fifo = dir.filePath("t10k-images-idx3-ubyte").toStdString();
        const std::string gz_fifo = dir.filePath("text.txt.gz").toStdString();
        QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
        QCOMPARE(::mkfifo(gz_fifo.c_str(), 0600), 0);
        test_support::write_bytes(dir.filePath("t10k-labels-idx1-ubyte").toStdString(), idx(1, {1}, {0}));
        for (const auto& read : std::vector<std::function<void()>>{[&] { load_dataset(fifo); }, [&] { load_dataset(dir.path().toStdString()); },
                                                                   [&] { read_file_bytes(fifo); }, [&] { map_file(fifo); },
                                                                   [&] { read_text_file(gz_fifo, 100); }}) {
            const QString err = error_of(read);
            QVERIFY2(err.contains("is not a regular file"), qPrintable(err));
        }
        QVERIFY(error_of([&] { read_file_bytes(fifo); }).contains("t10k-images-idx3-ubyte: is not a regular file"));
    }

    void limitBoundsWhatIsReadAndHeadersThatLie() {
        // A small gzip whose header claims 2.7 million images: with a limit only those samples are
        // read; without one it fails at "ends early" having allocated only what the file holds.
        QTemporaryDir dir;
        const std::string images = dir.filePath("t10k-images-idx3-ubyte.gz").toStdString();
        std::vector<uint8_t> values(size_t(300) * 784);
        for (size_t i = 0; i < values.size(); ++i) values[i] = uint8_t(i * 7);
        write_gz(images, idx(3, {2700000, 28, 28}, values));
        std::vector<uint8_t> labels(300);
        for (size_t i = 0; i < labels.size(); ++i) labels[i] = uint8_t(i % 10);
        write_gz(dir.filePath("t10k-labels-idx1-ubyte.gz").toStdString(), idx(1, {2700000}, labels));
        DatasetOptions o;
        o.limit = 200;
        const Dataset d = load_dataset(dir.path().toStdString(), o);
        QCOMPARE(d.count, 200);
        QCOMPARE(d.raw.size(), size_t(200) * 784);
        QCOMPARE(d.sample(199)[5], float(uint8_t((199 * 784 + 5) * 7)));
        QCOMPARE(d.labels[199], 9);
        const QString err = error_of([&] { load_dataset(dir.path().toStdString()); });
        QVERIFY2(err.contains("t10k-images-idx3-ubyte.gz") && err.contains("ends early"), qPrintable(err));
    }

    // --limit bounds CSV and NPY reading too: samples past the limit are never read (a bad line
    // there is not reached), and a limit past the end gives every sample.
    void csvAndNpyReadOnlyTheLimit() {
        QTemporaryDir dir;
        const std::string csv = dir.filePath("d.csv").toStdString();
        write_text(csv, "label,a,b\n1,0.5,2\n0,1,3\n2,4,5\nnot,a,number\n1,6,7\n");
        DatasetOptions o;
        o.limit = 3;
        const Dataset c = load_dataset(csv, o);
        QCOMPARE(c.count, 3);
        QCOMPARE(c.labels, (std::vector<int>{1, 0, 2}));
        QCOMPARE(c.sample(2)[1], 5.0f);
        QVERIFY(error_of([&] { load_dataset(csv); }).contains("line 5"));
        const std::string plain = dir.filePath("p.csv").toStdString(); // no header: the first line is a sample
        write_text(plain, "1,2\n0,3\n1,4\n");
        o.limit = 2;
        QCOMPARE(load_dataset(plain, o).labels, (std::vector<int>{1, 0}));
        o.limit = 50;
        QCOMPARE(load_dataset(plain, o).count, 3);

        write_npy(dir.filePath("X.npy").toStdString(), "<f4", "(4, 2)", le_bytes<float>({1, 2, 3, 4, 5, 6, 7, 8}));
        write_npy(dir.filePath("y.npy").toStdString(), "<i8", "(4,)", le_bytes<int64_t>({3, 1, 0, 2}));
        o.limit = 2;
        const Dataset n = load_dataset(dir.path().toStdString(), o);
        QCOMPARE(n.count, 2);
        QCOMPARE(n.raw, (std::vector<float>{1, 2, 3, 4}));
        QCOMPARE(n.labels, (std::vector<int>{3, 1}));
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
        QVERIFY2(err.contains("a-images-idx3-ubyte: file ends early while reading the IDX values (truncated file)"), qPrintable(err));

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
        const std::string labels = dir.filePath("t-labels-idx1-ubyte").toStdString();
        test_support::write_bytes(labels, idx(1, {10}, std::vector<uint8_t>(10, 1)));
        const QString err = error_of([&] { load_idx_pair(images, labels); });
        QVERIFY2(err.contains("t-images-idx3-ubyte.gz: ") && err.contains("truncated"), qPrintable(err));
    }

    void csvWithHeaderAndLabelByName() {
        QTemporaryDir dir;
        const std::string p = dir.filePath("d.csv").toStdString();
        write_text(p, "f1,f2,label,f3\r\n1,2,0,3\r\n4.5,-5,2,6e1\r\n\"7\",8,1,9\r\n\r\n");
        const Dataset d = load_dataset(p);
        QCOMPARE(d.format, std::string("csv"));
        QCOMPARE(d.count, 3);
        QCOMPARE(d.features, 3);
        QCOMPARE(d.labels, (std::vector<int>{0, 2, 1}));
        QCOMPARE(d.raw, (std::vector<float>{1, 2, 3, 4.5f, -5, 60, 7, 8, 9}));
        QCOMPARE(d.num_classes, 3);
        QCOMPARE(d.class_counts(), (std::vector<int>{1, 1, 1}));
        QCOMPARE(d.sha256, sha256_file_hex(p));
        QCOMPARE(load_csv_dataset(p, "f3").labels, (std::vector<int>{3, 60, 9}));
        QCOMPARE(load_csv_dataset(p, "2").labels, (std::vector<int>{0, 2, 1})); // by index
    }

    void csvWithoutHeaderUsesColumnZero() {
        QTemporaryDir dir;
        const std::string p = dir.filePath("d.csv").toStdString();
        write_text(p, "3,10,20\n1,30,40\n");
        const Dataset d = load_dataset(p);
        QCOMPARE(d.labels, (std::vector<int>{3, 1}));
        QCOMPARE(d.raw, (std::vector<float>{10, 20, 30, 40}));
    }

    void csvErrorsNameLineAndColumn_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("labelColumn");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bad value") << "a,label\n1,0\n2,x1\n" << "" << "line 3, column 2 ('label'): 'x1' is not a finite number";
        QTest::newRow("nan") << "a,label\n1,0\nnan,1\n" << "" << "line 3, column 1 ('a'): 'nan' is not a finite number";
        QTest::newRow("empty field") << "a,b,label\n1,,0\n" << "" << "line 2, column 2 ('b'): '' is not a finite number";
        QTest::newRow("ragged") << "a,label\n1,0\n2,1,3\n" << "" << "line 3 has 3 columns, line 1 has 2";
        QTest::newRow("negative label") << "a,label\n1,-1\n" << "" << "line 2, column 2 ('label'): label -1 is not a class index";
        QTest::newRow("fractional label") << "label,a\n1.5,0\n" << "" << "label 1.5 is not a class index";
        QTest::newRow("unknown column") << "a,b\n1,0\n" << "klass" << "header has no column named 'klass'";
        QTest::newRow("index out of range") << "1,2\n3,4\n" << "5" << "label column index 5 is out of range (the file has 2 columns)";
        QTest::newRow("name without header") << "1,2\n3,4\n" << "label" << "given by name but the file has no header line";
        QTest::newRow("empty") << "\n\n" << "" << "CSV file is empty";
        QTest::newRow("header only") << "a,label\n" << "" << "CSV has a header but no samples";
        QTest::newRow("one column") << "label\n1\n" << "" << "a CSV dataset needs a label and at least one feature";
    }
    void csvErrorsNameLineAndColumn() {
        QFETCH(QString, text);
        QFETCH(QString, labelColumn);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const std::string p = dir.filePath("bad.csv").toStdString();
        write_text(p, text.toStdString());
        const QString err = error_of([&] { load_csv_dataset(p, labelColumn.toStdString()); });
        QVERIFY2(err.contains(expected), qPrintable(err));
        QVERIFY2(err.startsWith(QString::fromStdString(p)), qPrintable(err));
    }

    void npyPair_data() {
        QTest::addColumn<QString>("descr");
        QTest::addColumn<QByteArray>("data");
        QTest::newRow("uint8") << "|u1" << QByteArray("\x01\x02\x03\x04\x05\xff", 6);
        const auto f4 = le_bytes<float>({1, 2, 3, 4, 5, 255});
        QTest::newRow("float32") << "<f4" << QByteArray(reinterpret_cast<const char*>(f4.data()), int(f4.size()));
        const auto f8 = le_bytes<double>({1, 2, 3, 4, 5, 255});
        QTest::newRow("float64") << "<f8" << QByteArray(reinterpret_cast<const char*>(f8.data()), int(f8.size()));
        const auto i8 = le_bytes<int64_t>({1, 2, 3, 4, 5, 255});
        QTest::newRow("int64") << "<i8" << QByteArray(reinterpret_cast<const char*>(i8.data()), int(i8.size()));
    }
    void npyPair() {
        QFETCH(QString, descr);
        QFETCH(QByteArray, data);
        QTemporaryDir dir;
        write_npy(dir.filePath("X.npy").toStdString(), descr.toStdString(), "(3, 2)", std::vector<uint8_t>(data.begin(), data.end()));
        write_npy(dir.filePath("y.npy").toStdString(), "<i8", "(3,)", le_bytes<int64_t>({2, 0, 2}));
        for (const QString& path : {dir.path(), dir.filePath("X.npy")}) {
            const Dataset d = load_dataset(path.toStdString());
            QCOMPARE(d.format, std::string("npy"));
            QCOMPARE(d.count, 3);
            QCOMPARE(d.features, 2);
            QCOMPARE(d.raw, (std::vector<float>{1, 2, 3, 4, 5, 255}));
            QCOMPARE(d.labels, (std::vector<int>{2, 0, 2}));
            QCOMPARE(d.class_counts(), (std::vector<int>{1, 0, 2}));
        }
    }

    void npyErrors() {
        QTemporaryDir dir;
        const std::string x = dir.filePath("X.npy").toStdString(), y = dir.filePath("y.npy").toStdString();
        write_npy(y, "<i8", "(2,)", le_bytes<int64_t>({0, 1}));
        write_npy(x, "<f4", "(2, 2)", le_bytes<float>({1, 2, 3}));
        QString err = error_of([&] { load_npy_pair(x, y); });
        QVERIFY2(err.contains("promise 16 data bytes but the file holds 12"), qPrintable(err));
        write_npy(x, "<f4", "(2, 2)", le_bytes<float>({1, 2, 3, 4}), true);
        err = error_of([&] { load_npy_pair(x, y); });
        QVERIFY2(err.contains("Fortran order"), qPrintable(err));
        write_npy(x, "<c8", "(2, 1)", le_bytes<float>({1, 2, 3, 4}));
        err = error_of([&] { load_npy_pair(x, y); });
        QVERIFY2(err.contains("NPY dtype '<c8' unsupported"), qPrintable(err));
        write_npy(x, "<f4", "(3, 1)", le_bytes<float>({1, 2, 3}));
        err = error_of([&] { load_npy_pair(x, y); });
        QVERIFY2(err.contains("holds 2 labels but") && err.contains("holds 3 samples"), qPrintable(err));
        write_npy(x, "<f4", "(2, 1)", le_bytes<float>({1, INFINITY}));
        err = error_of([&] { load_npy_pair(x, y); });
        QVERIFY2(err.contains("sample 1, feature 0 is not finite"), qPrintable(err));
        write_text(x, "not numpy");
        err = error_of([&] { load_npy_pair(x, y); });
        QVERIFY2(err.contains("not a NumPy .npy file"), qPrintable(err));
        write_npy(x, "<f4", "(2, 1)", le_bytes<float>({1, 2}));
        write_npy(y, "<f4", "(2,)", le_bytes<float>({0, 1}));
        err = error_of([&] { load_npy_pair(x, y); });
        QVERIFY2(err.contains("labels must be integers"), qPrintable(err));
    }

    void idxOtherDtypesAndNames() {
        // EMNIST-style names, a rank-2 float32 images file, int32 labels (big-endian).
        QTemporaryDir dir;
        std::vector<uint8_t> img = {0, 0, 0x0D, 2, 0, 0, 0, 2, 0, 0, 0, 2};
        for (float v : {1.5f, -2.0f, 0.25f, 8.0f}) {
            uint32_t b;
            std::memcpy(&b, &v, 4);
            for (int k = 3; k >= 0; --k) img.push_back(uint8_t(b >> (8 * k)));
        }
        const std::vector<uint8_t> lab = {0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 3};
        write_gz(dir.filePath("emnist-letters-test-images-idx2-float.gz").toStdString(), img);
        write_gz(dir.filePath("emnist-letters-test-labels-idx1-float.gz").toStdString(), lab);
        test_support::write_bytes(dir.filePath("emnist-letters-train-images-idx3-ubyte").toStdString(), idx(3, {1, 1, 1}, {9}));
        test_support::write_bytes(dir.filePath("emnist-letters-train-labels-idx1-ubyte").toStdString(), idx(1, {1}, {4}));
        const Dataset test = load_dataset(dir.path().toStdString());
        QCOMPARE(test.count, 2);
        QCOMPARE(test.features, 2);
        QCOMPARE(test.raw, (std::vector<float>{1.5f, -2.0f, 0.25f, 8.0f}));
        QCOMPARE(test.labels, (std::vector<int>{7, 3}));
        const Dataset train = load_idx_dir(dir.path().toStdString(), "train");
        QCOMPARE(train.labels, std::vector<int>{4});
    }

    void idxExtraBytesAreAnError() {
        QTemporaryDir dir;
        const std::string images = dir.filePath("x-images-idx3-ubyte").toStdString();
        test_support::write_bytes(images, idx(3, {1, 1, 2}, {1, 2, 3}));
        test_support::write_bytes(dir.filePath("x-labels-idx1-ubyte").toStdString(), idx(1, {1}, {0}));
        const QString err = error_of([&] { load_dataset(images); });
        QVERIFY2(err.contains("holds more data than its IDX header promises"), qPrintable(err));
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
        QCOMPARE(d.class_counts(), std::vector<int>(10, 1000));
        QCOMPARE(d.format, std::string("idx"));
        QCOMPARE(d.files.size(), size_t(2));
        QCOMPARE(d.sha256.size(), size_t(64));
        // Recognised by its hash: the names of the dataset's README, label 9 an ankle boot.
        QCOMPARE(d.class_names.size(), size_t(10));
        QCOMPARE(d.class_names[0], std::string("T-shirt/top"));
        QCOMPARE(d.class_names[9], std::string("Ankle boot"));
        QVERIFY(d.class_names_source.find("SHA-256") != std::string::npos);
    }

    // classes.txt beside the data names the classes (line N, class N - 1); a bad one is refused by
    // line and rule; a model's own names win over the dataset's unless they are only numbers.
    void classNamesFromAFileBesideTheData() {
        QTemporaryDir dir;
        const std::string csv = dir.filePath("d.csv").toStdString();
        write_text(csv, "label,a\n0,1\n2,3\n1,4\n");
        QVERIFY(load_dataset(csv).class_names.empty()); // no names anywhere: none made up
        const std::string names = dir.filePath("classes.txt").toStdString();
        write_text(names, "cat\r\ndog\r\nbird (small)\r\n\r\n\n");
        const Dataset d = load_dataset(csv);
        QCOMPARE(d.class_names, (std::vector<std::string>{"cat", "dog", "bird (small)"}));
        QCOMPARE(d.class_names_source, names);
        write_text(names, "cat\ndog\nbird\nfish\n"); // more names than the labels use: fine
        QCOMPARE(load_dataset(csv).class_names.size(), size_t(4));
        auto refused = [&](const std::string& text, const char* expect) {
            write_text(names, text);
            const QString err = error_of([&] { load_dataset(csv); });
            QVERIFY2(err.contains(QString::fromStdString(names)) && err.contains(QLatin1String(expect)), qPrintable(err));
        };
        refused("cat\ndog\n", "names 2 classes, but the labels go up to 2");
        refused("cat\n\nbird\n", "line 2 is empty");
        refused("cat\ndo\tg\nbird\n", "line 2: a control character");
        refused("cat\ndog\n" + std::string(300, 'x') + "\n", "line 3: a class name of 300 bytes");
        // An explicit file wins over the one beside the data.
        const std::string other = dir.filePath("other.txt").toStdString();
        write_text(other, "a\nb\nc\n");
        DatasetOptions o;
        o.classes_path = other;
        QCOMPARE(load_dataset(csv, o).class_names, (std::vector<std::string>{"a", "b", "c"}));
        o.classes_path = dir.filePath("missing.txt").toStdString();
        QVERIFY(error_of([&] { load_dataset(csv, o); }).contains("missing.txt"));

        const std::vector<std::string> numbers{"0", "1", "2"}, named{"x", "y", "z"}, data_names{"cat", "dog", "bird"};
        QCOMPARE(class_labels(numbers, data_names), data_names); // an ONNX model's numbers: the dataset's names
        QCOMPARE(class_labels(named, data_names), named);        // the model's own names win
        QCOMPARE(class_labels(numbers, {"cat"}), numbers);       // too few names: numbers stay
        QCOMPARE(class_labels({"1", "0"}, data_names), (std::vector<std::string>{"1", "0"})); // not their own numbers
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

QTEST_GUILESS_MAIN(TestDatasets)
#include "test_datasets.moc"
