#pragma once
// Errors raised while parsing or rendering. The evaluator throws them internally (templates nest
// deeply and every expression can fail); ChatTemplate catches them at its boundary and turns them
// into tgi::Error values, so no exception leaves chat/.
#include <exception>
#include <string>

namespace tgi::chat::jinja {

enum class ErrorType {
  kSyntax,     // the template does not parse
  kUndefined,  // jinja2 UndefinedError: using an undefined value
  kType,       // Python TypeError / ValueError in an operation or filter
  kSecurity,   // the sandbox refused (mutating a container, private attribute)
  kRaised,     // the template called raise_exception(message)
  kLimit,      // recursion, iteration or output size limit hit
  kRuntime,    // unknown filter/test, other runtime failures
};

class TemplateError : public std::exception {
 public:
  TemplateError(ErrorType type, std::string message) : type_(type), message_(std::move(message)) {}
  ErrorType type() const { return type_; }
  const std::string& message() const { return message_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  ErrorType type_;
  std::string message_;
};

[[noreturn]] inline void fail(ErrorType type, std::string message) { throw TemplateError(type, std::move(message)); }

}  // namespace tgi::chat::jinja
