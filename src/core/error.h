#pragma once
// Errors are values: every fallible operation returns Result<T>. The server maps an Error to an
// HTTP status and TGI's body {"error": ..., "error_type": ...} exactly once, at its edge.
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace tgi {

enum class ErrorKind {
  kInvalidArgument,  // caller supplied something malformed (flags, files, request fields)
  kValidation,       // TGI "validation" (422)
  kNotFound,         // a file, tensor, model id or route that does not exist
  kUnsupported,      // well-formed but not something we implement (architecture, dtype, flag)
  kCorruptData,      // a file whose bytes contradict its own format
  kIo,               // the operating system refused (open, mmap, read, network)
  kOverloaded,       // admission control (429)
  kGeneration,       // failure while generating
  kInternal,         // a bug: an invariant did not hold
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;

  template <typename... Args>
  static Error make(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
    return Error{kind, fmt::format(f, std::forward<Args>(args)...)};
  }
};

// Result<T> holds either a value or an Error (std::expected is C++23; g++ 12 builds C++20).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace tgi

// Propagates an error from an expression returning Result<...> out of the current function.
#define TGI_TRY(expr)                                  \
  do {                                                 \
    auto tgi_try_result_ = (expr);                     \
    if (!tgi_try_result_.ok()) return tgi_try_result_.error(); \
  } while (0)

// Binds the value of a Result<T> expression to `lhs`, or returns its error.
#define TGI_ASSIGN_OR_RETURN(lhs, expr) TGI_ASSIGN_OR_RETURN_IMPL(TGI_CONCAT(tgi_r_, __LINE__), lhs, expr)
#define TGI_CONCAT_INNER(a, b) a##b
#define TGI_CONCAT(a, b) TGI_CONCAT_INNER(a, b)
#define TGI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).error();   \
  lhs = std::move(tmp).value()
