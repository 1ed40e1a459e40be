// unicode_text.cpp
#include "formats/unicode_text.h"

#include "error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

namespace ss {

std::string normalize_unicode(const std::string& text, NormalForm form) {
    if (text.empty()) return text;
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2* n = form == NormalForm::NFC    ? unorm2_getNFCInstance(&err)
                            : form == NormalForm::NFD  ? unorm2_getNFDInstance(&err)
                            : form == NormalForm::NFKC ? unorm2_getNFKCInstance(&err)
                                                       : unorm2_getNFKDInstance(&err);
    if (U_FAILURE(err)) throw Error(std::string("Unicode normalization is not available (ICU: ") + u_errorName(err) + ")");
    // UTF-8 -> UTF-16, normalize, back.
    int32_t len16 = 0;
    u_strFromUTF8(nullptr, 0, &len16, text.data(), int32_t(text.size()), &err);
    if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err)) throw Error(std::string("text cannot be normalized (ICU: ") + u_errorName(err) + ")");
    err = U_ZERO_ERROR;
    std::u16string in(size_t(len16), u'\0');
    u_strFromUTF8(in.data(), len16, nullptr, text.data(), int32_t(text.size()), &err);
    if (unorm2_isNormalized(n, in.data(), len16, &err) && U_SUCCESS(err)) return text;
    err = U_ZERO_ERROR;
    std::u16string out(size_t(len16) * 2 + 16, u'\0'); // decompositions may grow; retried when too small
    int32_t len = unorm2_normalize(n, in.data(), len16, out.data(), int32_t(out.size()), &err);
    if (err == U_BUFFER_OVERFLOW_ERROR) {
        err = U_ZERO_ERROR;
        out.assign(size_t(len), u'\0');
        len = unorm2_normalize(n, in.data(), len16, out.data(), len, &err);
    }
    if (U_FAILURE(err)) throw Error(std::string("text cannot be normalized (ICU: ") + u_errorName(err) + ")");
    int32_t len8 = 0;
    u_strToUTF8(nullptr, 0, &len8, out.data(), len, &err);
    err = U_ZERO_ERROR;
    std::string result(size_t(len8), '\0');
    u_strToUTF8(result.data(), len8, nullptr, out.data(), len, &err);
    if (U_FAILURE(err)) throw Error(std::string("text cannot be normalized (ICU: ") + u_errorName(err) + ")");
    return result;
}

struct UnicodeRegex::Compiled {
    pcre2_code* code = nullptr;
};

UnicodeRegex::UnicodeRegex(const std::string& pattern) : c_(std::make_unique<Compiled>()) {
    int err = 0;
    PCRE2_SIZE at = 0;
    c_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &err, &at, nullptr);
    if (!c_->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        throw Error("pattern '" + pattern + "' does not compile at offset " + std::to_string(at) + ": " + reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(c_->code, PCRE2_JIT_COMPLETE); // falls back to the interpreter when JIT is unavailable
}

UnicodeRegex::~UnicodeRegex() {
    if (c_ && c_->code) pcre2_code_free(c_->code);
}

std::vector<ByteSpan> UnicodeRegex::find_all(const std::string& text) const {
    std::vector<ByteSpan> spans;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(c_->code, nullptr);
    if (!md) throw Error("out of memory for regular-expression matching");
    const auto* s = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos <= text.size()) {
        const int rc = pcre2_match(c_->code, s, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            pcre2_match_data_free(md);
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            throw Error(std::string("regular-expression matching failed: ") + reinterpret_cast<const char*>(msg));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t b = ov[0], e = ov[1];
        if (e > b) {
            spans.push_back({b, e});
            pos = e;
        } else { // empty match: step over one UTF-8 character
            pos = b + 1;
            while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
        }
    }
    pcre2_match_data_free(md);
    return spans;
}

} // namespace ss
