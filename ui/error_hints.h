// error_hints.h - what the user can do about each kind of failure, shown under the engine's
// message (which names the file, the field and the rule) in error dialogs.
#pragma once

#include <QCoreApplication>
#include <QString>

namespace ssui {

enum class FailedAction { None, OpenModel, OpenDataset, OpenSession, SaveSession, ExportFile, LoadPlan, Evaluate, Override };

inline QString error_hint(FailedAction action) {
    auto tr = [](const char* s) { return QCoreApplication::translate("ErrorHint", s); };
    switch (action) {
    case FailedAction::None: return {};
    case FailedAction::OpenModel:
        return tr("SparseScope opens safetensors files in its classifier layout (a .safetensors file, or a folder with "
                  "config.json beside it; see docs/model-format.md) and ONNX files exported from PyTorch. "
                  "The model loaded before is still loaded.");
    case FailedAction::OpenDataset:
        return tr("Datasets are IDX pairs (images + labels, as Fashion-MNIST ships them, gzipped or not), a CSV with a label "
                  "column, or NPY arrays. Open the folder or the images file. The dataset loaded before is still loaded.");
    case FailedAction::OpenSession:
        return tr("The file was not changed. If it was written by a newer SparseScope, open it with that version; if it is "
                  "damaged, a backup (.bak) beside it may still open.");
    case FailedAction::SaveSession:
        return tr("Check that the folder exists and is writable and that the disk has room, then save again, or choose "
                  "another place with File > Save Session As. The runs are still in this window.");
    case FailedAction::ExportFile:
        return tr("Check that the folder exists and is writable, and pick a file name ending in one of the listed formats.");
    case FailedAction::LoadPlan:
        return tr("A plan is a JSON file as described in docs/compression.md (\"The plan\"): a global pruning and quantization "
                  "and optional per-layer or per-expert overrides. The controls keep their settings.");
    case FailedAction::Evaluate:
        return tr("Change the settings and evaluate again; the runs already measured are kept.");
    case FailedAction::Override:
        return tr("Each override names a layer or an expert of the model (layer, or layer/expert) and uses the same "
                  "pruning and quantization forms as the controls, for example magnitude:0.5 and int4:g32.");
    }
    return {};
}

} // namespace ssui
