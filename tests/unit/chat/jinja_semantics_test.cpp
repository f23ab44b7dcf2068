// Focused checks of the Jinja engine's Python/jinja2 semantics, sandbox and limits (the golden
// test covers real templates; these pin down behaviour templates rarely exercise).
#include <thread>

#include <gtest/gtest.h>

#include "chat/chat_template.h"

namespace tgi::chat {
namespace {

Result<std::string> render(const std::string& source, const Json& messages = Json::array(), ApplyOptions options = {}) {
  auto parsed = ChatTemplate::parse(source);
  if (!parsed.ok()) return parsed.error();
  if (!options.date) options.date = "2026-01-02";
  return parsed->apply(messages, options);
}

std::string ok(const std::string& source, const Json& messages = Json::array(), ApplyOptions options = {}) {
  auto r = render(source, messages, options);
  EXPECT_TRUE(r.ok()) << source << " -> " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : "<error>";
}

std::string error_of(const std::string& source, const Json& messages = Json::array()) {
  auto r = render(source, messages);
  EXPECT_FALSE(r.ok()) << source << " rendered " << (r.ok() ? *r : "");
  return r.ok() ? "" : r.error().message;
}

TEST(JinjaWhitespace, TrimAndLstripBlocksLikeTransformers) {
  EXPECT_EQ(ok("  {% if true %}\nx\n  {% endif %}\ny"), "x\ny");
  EXPECT_EQ(ok("a  {{- ' b ' -}}  c"), "a b c");
  EXPECT_EQ(ok("a {%- if true -%} b {%- endif -%} c"), "abc");
  EXPECT_EQ(ok("{# comment #}\nx"), "x");
  EXPECT_EQ(ok("  {%+ if true %}x{% endif %}"), "  x");
  EXPECT_EQ(ok("{{ 'a' }}\n"), "a");  // one trailing newline is dropped
  EXPECT_EQ(ok("{% raw %}{{ not evaluated }}{% endraw %}"), "{{ not evaluated }}");
}

TEST(JinjaValues, PythonFormatting) {
  EXPECT_EQ(ok("{{ 1.0 }} {{ 10 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1e-5 }} {{ 1e20 }}"),
            "1.0 5.0 3 -4 2 1024 1e-05 1e+20");
  EXPECT_EQ(ok("{{ none }} {{ true }} {{ [1, 'a', none] }} {{ {'k': (1,)} }} {{ \"it's\" ~ [\"it's\"] }}"),
            "None True [1, 'a', None] {'k': (1,)} it's[\"it's\"]");
  EXPECT_EQ(ok("{{ undefined_name }}|{{ 'abc'[1:] }}|{{ 'abc'[::-1] }}|{{ [1,2,3][-1] }}"), "|bc|cba|3");
  EXPECT_EQ(ok("{{ 'x' if 1 < 2 < 3 else 'y' }}{{ 'a' in 'cat' }}{{ 2 not in [1] }}"), "xTrueTrue");
}

TEST(JinjaFilters, TojsonMatchesJsonDumps) {
  ApplyOptions options;
  options.extra_context = Json::parse(R"({"x": {"b": [1, 2.5, "é\n\"q\""], "a": null, "c": true}})");
  EXPECT_EQ(ok("{{ x | tojson }}", Json::array(), options), R"({"b": [1, 2.5, "é\n\"q\""], "a": null, "c": true})");
  EXPECT_EQ(ok("{{ x | tojson(indent=2) }}", Json::array(), options),
            "{\n  \"b\": [\n    1,\n    2.5,\n    \"é\\n\\\"q\\\"\"\n  ],\n  \"a\": null,\n  \"c\": true\n}");
  EXPECT_EQ(ok("{{ x | tojson(sort_keys=true, separators=(',', ':')) }}", Json::array(), options),
            R"({"a":null,"b":[1,2.5,"é\n\"q\""],"c":true})");
  EXPECT_FALSE(render("{{ [1] | map('string') | tojson }}").ok());  // a generator is not JSON
}

TEST(JinjaFilters, CommonFilters) {
  EXPECT_EQ(ok("{{ '  hi  ' | trim }}|{{ [3,1,2] | sort | join(',') }}|{{ 'ab' | upper }}|{{ 'hello world' | title }}"),
            "hi|1,2,3|AB|Hello World");
  EXPECT_EQ(ok("{{ [{'n': 'a', 'k': 1}, {'n': 'b'}] | selectattr('k', 'defined') | map(attribute='n') | list }}"), "['a']");
  EXPECT_EQ(ok("{{ {'b': 1, 'a': 2} | dictsort }}|{{ {'a': 1} | items | list }}"), "[('a', 2), ('b', 1)]|[('a', 1)]");
  EXPECT_EQ(ok("{{ 'a\nb' | indent(2) }}|{{ x | default('d') }}|{{ [1,2,2] | unique | list }}|{{ 3.7 | int }}"),
            "a\n  b|d|[1, 2]|3");
  EXPECT_EQ(ok("{{ '<a>' | e }}|{{ '<' | safe + '<' }}"), "&lt;a&gt;|<&lt;");
}

TEST(JinjaStatements, ScopingLikeJinja2) {
  // A set inside a loop does not leak out, and each iteration starts fresh; namespaces carry state.
  EXPECT_EQ(ok("{% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{% endfor %}{{ x }}"), "0000");
  EXPECT_EQ(ok("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"), "3");
  EXPECT_EQ(ok("{% for i in [1,2,3] %}{{ loop.index }}{{ loop.previtem | default('-') }}{{ loop.cycle('a','b') }}"
               "{% if loop.last %}!{% endif %}{% endfor %}"),
            "1-a21b32a!");
  EXPECT_EQ(ok("{% for i in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(ok("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
            "013");
  EXPECT_EQ(ok("{% macro m(a, b='B') %}{{ a }}{{ b }}{{ top }}{% endmacro %}{% set top = 'T' %}{{ m(1) }}{{ m(2, b=3) }}"), "1BT23T");
  EXPECT_EQ(ok("{% set s %}in{{ 1 }}{% endset %}{{ s }}|{% filter upper %}abc{% endfilter %}"), "in1|ABC");
  EXPECT_EQ(ok("{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %}"), "a=1");
}

TEST(JinjaMethods, StringAndDictMethods) {
  EXPECT_EQ(ok("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a-b-c'.rsplit('-', 1) }}"),
            "['a', 'b', '', 'c']|['a', 'b']|['a-b', 'c']");
  EXPECT_EQ(ok("{{ 'xxhixx'.strip('x') }}|{{ 'hello'.startswith(('x', 'he')) }}|{{ \"they're\".title() }}|{{ '{} {x}'.format(1, x=2) }}"),
            "hi|True|They'Re|1 2");
  EXPECT_EQ(ok("{% set d = {'a': 1} %}{{ d.get('a') }}{{ d.get('z', 'none') }}{{ d.keys() | list }}{{ d['a'] }}"), "1none['a']1");
}

TEST(JinjaErrors, RaiseExceptionMessageIsExact) {
  auto r = render("{{ raise_exception('Roles must alternate!') }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Roles must alternate!");
}

TEST(JinjaErrors, UndefinedAndTypeErrors) {
  EXPECT_NE(error_of("{{ foo.bar }}").find("'foo' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{{ 'a' + none }}").find("can only concatenate str"), std::string::npos);
  EXPECT_NE(error_of("{% for x in none %}{% endfor %}").find("not iterable"), std::string::npos);
  EXPECT_NE(error_of("{{ [1] | no_such_filter }}").find("No filter named 'no_such_filter'"), std::string::npos);
  auto parse = ChatTemplate::parse("line1\n{% if x %}\nno end");
  ASSERT_FALSE(parse.ok());
  EXPECT_NE(parse.error().message.find("endif"), std::string::npos) << parse.error().message;
}

TEST(JinjaSandbox, RefusesMutationAndPrivateAttributes) {
  EXPECT_EQ(error_of("{% set l = [] %}{{ l.append(1) }}"), "access to attribute 'append' of 'list' object is unsafe.");
  EXPECT_NE(error_of("{% set d = {} %}{{ d.update({'a': 1}) }}").find("unsafe"), std::string::npos);
  EXPECT_NE(error_of("{{ ''.__class__ }}").find("unsafe"), std::string::npos);
  EXPECT_NE(error_of("{{ range(1000000) | length }}").find("Range too big"), std::string::npos);
}

TEST(JinjaLimits, HostileTemplatesStopWithClearErrors) {
  EXPECT_NE(error_of("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}").find("loop iterations"),
            std::string::npos);
  EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("macro call depth"), std::string::npos);
  EXPECT_NE(error_of("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}").find("exceeds the limit"), std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}").find("exceeds"),
            std::string::npos);
  std::string deep(5000, '(');
  EXPECT_FALSE(ChatTemplate::parse("{{ " + deep + " }}").ok());
}

TEST(JinjaLimits, ArithmeticEdgesAreErrorsNotUndefinedBehaviour) {
  EXPECT_NE(error_of("{{ -(-9223372036854775807 - 1) }}").find("overflow"), std::string::npos);
  EXPECT_NE(error_of("{{ 2 ** 64 }}").find("overflow"), std::string::npos);
  EXPECT_EQ(ok("{{ (-1) ** 1000000000000000001 }}|{{ 'abc'[::9223372036854775807] }}|{{ 7 % -1 }}|{{ 1e300 | int }}"), "-1|a|0|0");
  EXPECT_FALSE(render("{{ [1, 2] * 9223372036854775807 }}").ok());
  EXPECT_FALSE(render("{{ '%99999999d' % 1 }}").ok());
  EXPECT_FALSE(render("{{ '%888888888888888888e' % 1 }}").ok());
  EXPECT_FALSE(render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}").ok());
  EXPECT_EQ(ok("{{ range(9223372036854775800, 9223372036854775807, 4) | list }}"), "[9223372036854775800, 9223372036854775804]");
  Json deep = Json::array();
  for (int i = 0; i < 2000; ++i) deep = Json::array({deep});
  ApplyOptions options;
  options.extra_context = Json::object({{"deep", deep}});
  EXPECT_FALSE(render("{{ deep }}", Json::array(), options).ok());
}

TEST(ChatApply, ContinueFinalMessageCutsAfterContent) {
  const char* chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}";
  Json messages = Json::parse(R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Waves fold "}])");
  ApplyOptions options;
  options.continue_final_message = true;
  EXPECT_EQ(ok(chatml, messages, options), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nWaves fold ");
  options.add_generation_prompt = true;
  EXPECT_FALSE(render(chatml, messages, options).ok());
}

TEST(ChatApply, ContextVariablesAndStrftime) {
  ApplyOptions options;
  options.bos_token = "<s>";
  options.add_generation_prompt = true;
  options.extra_context = Json::parse(R"({"enable_thinking": false})");
  options.date = "2024-09-03";
  EXPECT_EQ(ok("{{ bos_token }}{{ tools is none }}{{ add_generation_prompt }}{{ enable_thinking }}{{ strftime_now('%d %b %Y') }}",
               Json::array(), options),
            "<s>TrueTrueFalse03 Sep 2024");
  Json parts = Json::parse(R"([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])");
  EXPECT_EQ(ok("{% for p in messages[0].content %}{{ p.text }}{% endfor %}", parts), "ab");
}

TEST(ChatApply, ThreadSafeConcurrentRenders) {
  auto parsed = ChatTemplate::parse("{% for m in messages %}{{ m.content | upper }}{% set ns = namespace(x=loop.index) %}{{ ns.x }}{% endfor %}");
  ASSERT_TRUE(parsed.ok());
  Json messages = Json::parse(R"([{"content": "a"}, {"content": "b"}])");
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = parsed->apply(messages, ApplyOptions{});
        if (r.ok() && *r == "A1B2") ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 800);
}

}  // namespace
}  // namespace tgi::chat
