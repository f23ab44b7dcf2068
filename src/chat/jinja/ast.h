#pragma once
// The parsed template: expression and statement nodes. Built once by the parser, then only read,
// so one tree serves every concurrent render.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace tgi::chat::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  kLiteral, kName, kList, kTuple, kDict, kAttr, kItem, kSlice, kCall, kFilter, kTest, kNot, kNeg, kPos,
  kBinary, kAnd, kOr, kCompare, kCondition,
};

struct KeywordArg {
  std::string name;
  ExprPtr value;
};

struct Expr {
  ExprKind kind;
  int line = 0;
  explicit Expr(ExprKind k, int l) : kind(k), line(l) {}
  virtual ~Expr() = default;  // nodes are owned through ExprPtr
};

struct LiteralExpr : Expr {
  Value value;
  LiteralExpr(Value v, int l) : Expr(ExprKind::kLiteral, l), value(std::move(v)) {}
};
struct NameExpr : Expr {
  std::string name;
  NameExpr(std::string n, int l) : Expr(ExprKind::kName, l), name(std::move(n)) {}
};
struct SequenceExpr : Expr {  // list or tuple literal
  std::vector<ExprPtr> items;
  using Expr::Expr;
};
struct DictExpr : Expr {
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
  using Expr::Expr;
};
struct AttrExpr : Expr {
  ExprPtr object;
  std::string name;
  using Expr::Expr;
};
struct ItemExpr : Expr {
  ExprPtr object, index;
  using Expr::Expr;
};
struct SliceExpr : Expr {
  ExprPtr object, start, stop, step;  // missing bounds are null
  using Expr::Expr;
};
struct CallExpr : Expr {
  ExprPtr callee;
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
  using Expr::Expr;
};
struct FilterExpr : Expr {  // also used for {% filter %} blocks, with a null operand
  ExprPtr operand;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
  using Expr::Expr;
};
struct TestExpr : Expr {
  ExprPtr operand;
  std::string name;
  std::vector<ExprPtr> args;
  bool negated = false;
  using Expr::Expr;
};
struct UnaryExpr : Expr {  // not, -, +
  ExprPtr operand;
  using Expr::Expr;
};
struct BinaryExpr : Expr {  // arithmetic, ~, and, or
  std::string op;
  ExprPtr left, right;
  using Expr::Expr;
};
struct CompareExpr : Expr {
  ExprPtr first;
  std::vector<std::pair<std::string, ExprPtr>> rest;  // ==, !=, <, <=, >, >=, in, notin
  using Expr::Expr;
};
struct ConditionExpr : Expr {
  ExprPtr condition, then_value, else_value;  // else may be null: undefined
  using Expr::Expr;
};

enum class StmtKind { kText, kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kCallBlock, kFilterBlock, kBreak, kContinue, kWith, kScope };

struct Stmt {
  StmtKind kind;
  int line = 0;
  Stmt(StmtKind k, int l) : kind(k), line(l) {}
  virtual ~Stmt() = default;  // nodes are owned through StmtPtr
};

struct TextStmt : Stmt {
  std::string text;
  TextStmt(std::string t, int l) : Stmt(StmtKind::kText, l), text(std::move(t)) {}
};
struct OutputStmt : Stmt {
  ExprPtr value;
  using Stmt::Stmt;
};
struct IfStmt : Stmt {
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body else_body;
  using Stmt::Stmt;
};
// An assignment target: a name, a tuple of names, or namespace.attribute.
struct Target {
  std::vector<std::string> names;  // one name, or several for unpacking
  bool unpack = false;
  std::string attribute;           // set for `ns.attr`: names[0] is the namespace
};
struct ForStmt : Stmt {
  Target target;
  ExprPtr iterable, filter;
  Body body, else_body;
  bool recursive = false;
  using Stmt::Stmt;
};
struct SetStmt : Stmt {
  Target target;
  ExprPtr value;
  using Stmt::Stmt;
};
struct SetBlockStmt : Stmt {
  Target target;
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
  using Stmt::Stmt;
};
struct MacroParam {
  std::string name;
  ExprPtr default_value;
};
struct MacroStmt : Stmt {
  std::string name;
  std::vector<MacroParam> params;
  Body body;
  using Stmt::Stmt;
};
struct CallBlockStmt : Stmt {
  std::unique_ptr<CallExpr> call;
  std::vector<MacroParam> caller_params;
  Body body;
  using Stmt::Stmt;
};
struct FilterBlockStmt : Stmt {
  std::vector<std::unique_ptr<FilterExpr>> filters;  // applied in order
  Body body;
  using Stmt::Stmt;
};
struct WithStmt : Stmt {
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
  using Stmt::Stmt;
};
struct ScopeStmt : Stmt {  // a body rendered in place (transformers' {% generation %})
  Body body;
  using Stmt::Stmt;
};

struct Program {
  std::string source;
  Body body;
};

}  // namespace tgi::chat::jinja
