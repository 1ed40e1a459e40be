// dataset_card.h - what a dataset is and where it came from: the facts SparseScope measures (path,
// SHA-256, format, counts, class balance) and the provenance only a person can state (licence,
// source, citation, how it was collected). Provenance is read from a `dataset-card.json` beside the
// data, else from the Debian package's machine-readable copyright file for datasets installed under
// /usr/share/datasets, else from a README beside the data; what none of them says stays empty for
// the user to fill in (the window asks), and the card is kept in the session with the runs.
#pragma once

#include "data/dataset.h"

#include <string>

namespace ss {

struct DuplicateReport;

inline constexpr const char* kDatasetCardFile = "dataset-card.json";

struct DatasetProvenance {
    std::string name;        // e.g. "Fashion-MNIST"
    std::string description;
    std::string license;     // SPDX identifier where there is one ("MIT"), else the words given
    std::string source;      // a URL, or where the files were obtained
    std::string citation;
    std::string collection;  // how the samples were collected and labelled
    std::string origin;      // where these fields were read: a path, or "entered by the user"; "" none found
    bool empty() const { return name.empty() && description.empty() && license.empty() && source.empty() && citation.empty() && collection.empty(); }
};

// A dataset-card.json: one JSON object whose keys are among name, description, license, source,
// citation, collection, each a string of at most 64 KiB; the file at most 1 MiB. Throws ss::Error
// naming the file and the key.
DatasetProvenance read_dataset_card_file(const std::string& path);
DatasetProvenance parse_dataset_card(const std::string& json_text, const std::string& origin);

// The provenance found for `d` (see the top of this file); `origin` empty when none was found.
DatasetProvenance find_dataset_provenance(const Dataset& d);

// The card as one JSON object: {"dataset": facts, "provenance": fields, "leakage": summary or absent}.
// Facts: path, format, files, sha256, samples, features, classes, class_counts, class_names,
// value_range. `leakage` is the test-against-train report (duplicates.h) when one was made.
std::string dataset_card_json(const Dataset& d, const DatasetProvenance& p, const DuplicateReport* leakage = nullptr);
// The provenance fields as a dataset-card.json would hold them (origin left out).
std::string provenance_json(const DatasetProvenance& p);

} // namespace ss
