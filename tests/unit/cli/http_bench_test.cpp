// `tgi bench --url`: the parts that need no running tgi server — URL parsing, SSE event
// splitting, what a stream's events make of a request, the level statistics and their JSON, the
// gnuplot script — plus the HTTP client against a scripted in-process server.
// (tests/e2e/http_bench.test.sh drives the whole command against `tgi serve`.)
#include "cli/http_bench.h"
#include "cli/bench_plot.h"
#include "cli/bench_runner.h"
#include "cli/http_stream_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace tgi::cli {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- URL ---

TEST(HttpBenchUrl, ParsesHostPortAndPathPrefix) {
  auto url = parse_http_url("http://127.0.0.1:8080");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->path_prefix, "");
  EXPECT_EQ(url->to_string(), "http://127.0.0.1:8080");

  url = parse_http_url("http://example.com");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, "80");

  url = parse_http_url("http://gateway:9000/models/qwen/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->path_prefix, "/models/qwen");
  EXPECT_EQ(url->to_string(), "http://gateway:9000/models/qwen");

  url = parse_http_url("HTTP://[::1]:3000/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "3000");
  EXPECT_EQ(url->path_prefix, "");
  EXPECT_EQ(url->host_header(), "[::1]:3000");
}

TEST(HttpBenchUrl, RejectsWhatItCannotServe) {
  for (const char* text : {"https://127.0.0.1:8080", "127.0.0.1:8080", "ftp://h", "http://", "http://:8080",
                           "http://h:", "http://h:0", "http://h:65536", "http://h:80a", "http://h/x?y=1",
                           "http://u:p@h", "http://::1:8080", "http://[::1"}) {
    const auto url = parse_http_url(text);
    EXPECT_FALSE(url.ok()) << text;
    if (!url.ok()) {
      EXPECT_THAT(url.error().message, HasSubstr(text));
    }
  }
  EXPECT_THAT(parse_http_url("https://h").error().message, HasSubstr("https is not supported"));
}

// --- SSE ---

std::vector<std::string> split_in_pieces(const std::string& stream, const std::vector<size_t>& cuts) {
  SseSplitter splitter;
  std::vector<std::string> events;
  size_t from = 0;
  for (size_t cut : cuts) {
    for (auto& e : splitter.feed(std::string_view(stream).substr(from, cut - from))) events.push_back(e);
    from = cut;
  }
  for (auto& e : splitter.feed(std::string_view(stream).substr(from))) events.push_back(e);
  EXPECT_FALSE(splitter.partial());
  return events;
}

TEST(HttpBenchSse, SplitsEventsWhereverTheChunksAreCut) {
  // LF, CRLF and CR line ends, a keep-alive comment, a two-line data field, an event with no data.
  const std::string stream =
      "data: {\"index\":1}\n\n"
      ":\n\n"
      "data:{\"index\":2}\r\n\r\n"
      "data: a\ndata: b\n\n"
      "event: ping\n\n"
      "data: {\"index\":3}\r\r";
  const std::vector<std::string> expected = {"{\"index\":1}", "{\"index\":2}", "a\nb", "{\"index\":3}"};
  EXPECT_EQ(split_in_pieces(stream, {}), expected);
  for (size_t i = 0; i <= stream.size(); ++i) {
    for (size_t j = i; j <= stream.size(); ++j) {
      ASSERT_EQ(split_in_pieces(stream, {i, j}), expected) << "cut at " << i << " and " << j;
    }
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  EXPECT_EQ(split_in_pieces(stream, every_byte), expected);
}

TEST(HttpBenchSse, HoldsAnUnfinishedEvent) {
  SseSplitter splitter;
  EXPECT_TRUE(splitter.feed("data: {\"index\":1}\n").empty());
  EXPECT_TRUE(splitter.partial());
  EXPECT_THAT(splitter.feed("\ndata: x"), ElementsAre("{\"index\":1}"));
  EXPECT_TRUE(splitter.partial());
  EXPECT_THAT(splitter.feed("\n\n"), ElementsAre("x"));
  EXPECT_FALSE(splitter.partial());
  EXPECT_THAT(splitter.feed("data\n\n"), ElementsAre(""));  // a "data" line without a colon: empty data
}

// --- a request's events, a level's statistics ---

std::string token_event(int index) {
  return fmt::format(R"({{"index":{},"token":{{"id":7,"text":" hi","logprob":-0.5,"special":false}},)"
                     R"("generated_text":null,"details":null}})",
                     index);
}

TEST(HttpBenchStats, RecordsTokenTimesFromTheStream) {
  RequestSample sample;
  record_stream_event(token_event(1), 0.100, sample);
  record_stream_event(token_event(2), 0.120, sample);
  record_stream_event(token_event(3), 0.150, sample);
  EXPECT_FALSE(sample.finished);
  record_stream_event(
      R"({"index":4,"token":{"id":7,"text":" hi","logprob":-0.5,"special":false},"generated_text":" hi hi hi hi","details":null})",
      0.160, sample);
  EXPECT_TRUE(sample.finished);
  EXPECT_EQ(sample.tokens, 4);
  EXPECT_DOUBLE_EQ(sample.ttft_s, 0.100);
  ASSERT_EQ(sample.itl_s.size(), 3u);
  EXPECT_NEAR(sample.itl_s[0], 0.020, 1e-12);
  EXPECT_NEAR(sample.itl_s[1], 0.030, 1e-12);
  EXPECT_NEAR(sample.itl_s[2], 0.010, 1e-12);
  EXPECT_TRUE(sample.error.empty());

  RequestSample failed;
  record_stream_event(R"({"error":"Request failed during generation: x","error_type":"generation"})", 0.1,
                      failed);
  EXPECT_EQ(failed.error, "stream error: Request failed during generation: x");
  RequestSample garbled;
  record_stream_event("not json", 0.1, garbled);
  EXPECT_THAT(garbled.error, HasSubstr("not a JSON object"));
}

RequestSample ok_sample(int tokens, double ttft, double gap, double e2e) {
  RequestSample s;
  s.ok = s.finished = true;
  s.tokens = tokens;
  s.ttft_s = ttft;
  s.itl_s.assign(static_cast<size_t>(std::max(0, tokens - 1)), gap);
  s.e2e_s = e2e;
  return s;
}

TEST(HttpBenchStats, AggregatesALevel) {
  std::vector<RequestSample> samples;
  for (int i = 1; i <= 10; ++i) samples.push_back(ok_sample(8, 0.010 * i, 0.001 * i, 0.1 * i));
  samples.push_back(ok_sample(5, 0.2, 0.5, 2.0));  // ended at EOS: short
  RequestSample refused;
  refused.error = "HTTP 429: Model is overloaded";
  samples.push_back(refused);
  samples.push_back(refused);
  RequestSample cut;
  cut.error = "stream error: the stream ended without its final event";
  cut.tokens = 3;
  samples.push_back(cut);

  const LevelStats level = aggregate_level(4, 8, samples, 2.0);
  EXPECT_EQ(level.clients, 4);
  EXPECT_EQ(level.requests, 14);
  EXPECT_EQ(level.successful_requests, 11);
  EXPECT_EQ(level.errors, 3);
  EXPECT_EQ(level.error_counts.at("HTTP 429: Model is overloaded"), 2);
  EXPECT_EQ(level.error_counts.at("stream error: the stream ended without its final event"), 1);
  EXPECT_EQ(level.generated_tokens, 10 * 8 + 5 + 3);  // what arrived, a failed stream's included
  EXPECT_EQ(level.short_requests, 1);
  EXPECT_DOUBLE_EQ(level.tokens_per_second, 88 / 2.0);
  EXPECT_DOUBLE_EQ(level.requests_per_second, 11 / 2.0);
  // Nearest rank over 11 TTFTs {10,20,...,100,200} ms: p50 is the 6th, p90 the 10th, p99 the 11th.
  EXPECT_NEAR(*level.ttft_p50_ms, 60, 1e-9);
  EXPECT_NEAR(*level.ttft_p90_ms, 100, 1e-9);
  EXPECT_NEAR(*level.ttft_p99_ms, 200, 1e-9);
  // 74 gaps: 7 each of 1..10 ms, then 4 of 500 ms; p50 is the 37th (6 ms), p90 the 67th (10 ms).
  EXPECT_NEAR(*level.itl_p50_ms, 6, 1e-9);
  EXPECT_NEAR(*level.itl_p90_ms, 10, 1e-9);
  EXPECT_NEAR(*level.itl_p99_ms, 500, 1e-9);
  EXPECT_NEAR(*level.e2e_p50_ms, 600, 1e-9);
}

TEST(HttpBenchStats, ALevelWithoutSuccessHasNoLatencies) {
  RequestSample refused;
  refused.error = "transport: cannot connect to 127.0.0.1:1: Connection refused";
  const LevelStats level = aggregate_level(1, 8, {refused}, 0.001);
  EXPECT_EQ(level.successful_requests, 0);
  EXPECT_FALSE(level.ttft_p50_ms || level.itl_p50_ms || level.e2e_p50_ms);
  const auto json = level_json(level);
  EXPECT_TRUE(json["ttft_p50_ms"].is_null());
  EXPECT_TRUE(json["itl_p99_ms"].is_null());
  EXPECT_THAT(format_level_table({level}), HasSubstr("        -"));
}

TEST(HttpBenchStats, JsonKeysAreTheDocumentedOnes) {
  const auto json = level_json(aggregate_level(2, 4, {ok_sample(4, 0.01, 0.002, 0.02)}, 1.0));
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_THAT(keys, ElementsAre("clients", "requests", "successful_requests", "errors", "error_counts",
                                "generated_tokens", "short_requests", "wall_s", "tokens_per_second",
                                "requests_per_second", "ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms",
                                "itl_p50_ms", "itl_p90_ms", "itl_p99_ms", "e2e_p50_ms", "speculative_acceptance",
                                "speculative_tokens_per_step"));
  EXPECT_EQ(json["generated_tokens"], 4);
  EXPECT_TRUE(json["speculative_acceptance"].is_null());
  EXPECT_NEAR(json["itl_p50_ms"].get<double>(), 2.0, 1e-9);
}

TEST(HttpBenchStats, SpeculationFromTheMetricsCountersAroundALevel) {
  const std::string before =
      "# TYPE tgi_speculative_steps counter\ntgi_speculative_steps 10\n"
      "tgi_speculative_proposed_tokens 40\ntgi_speculative_accepted_tokens 20\ntgi_queue_size 0\n";
  const std::string after =
      "tgi_speculative_steps 30\ntgi_speculative_proposed_tokens 120\ntgi_speculative_accepted_tokens 80\n";
  const SpeculationCounters b = speculation_counters(before), a = speculation_counters(after);
  EXPECT_EQ(b.steps, 10);
  EXPECT_EQ(b.proposed, 40);
  EXPECT_EQ(a.accepted, 80);
  LevelStats level;
  add_speculation(level, b, a);
  ASSERT_TRUE(level.speculative_acceptance.has_value());
  EXPECT_DOUBLE_EQ(*level.speculative_acceptance, 60.0 / 80.0);
  EXPECT_DOUBLE_EQ(*level.speculative_tokens_per_step, 1 + 60.0 / 20.0);
  LevelStats idle;
  add_speculation(idle, a, a);  // nothing verified during the level
  EXPECT_FALSE(idle.speculative_acceptance.has_value());
  EXPECT_EQ(speculation_counters("garbage\ntgi_speculative_steps x\n").steps, 0);
}

TEST(HttpBenchStats, PromptAndRequestBody) {
  EXPECT_EQ(repeated_word_prompt(1), "hello");
  EXPECT_EQ(repeated_word_prompt(3), "hello hello hello");
  const auto body = nlohmann::json::parse(generate_stream_body("Hi \"there\"", 16));
  EXPECT_EQ(body["inputs"], "Hi \"there\"");
  EXPECT_EQ(body["parameters"],
            nlohmann::json::parse(R"({"max_new_tokens":16,"details":false,"decoder_input_details":false})"));
}

// --- plot ---

TEST(HttpBenchPlot, ScriptDrawsBothPanels) {
  const std::vector<LoadPoint> points = {{1, 100.0, 5.0}, {2, 180.5, 6.25}, {4, 250.0, std::nullopt}};
  auto script = gnuplot_script(points, "/tmp/it's.svg", "tgi bench 'x'");
  ASSERT_TRUE(script.ok()) << script.error().message;
  EXPECT_THAT(*script, HasSubstr("set terminal svg "));
  EXPECT_THAT(*script, HasSubstr("set output '/tmp/it''s.svg'\n"));
  EXPECT_THAT(*script, HasSubstr("$levels << EOD\n# clients tokens_per_second itl_p50_ms\n"
                                 "1 100.000 5.000\n2 180.500 6.250\n4 250.000 NaN\nEOD\n"));
  EXPECT_THAT(*script, HasSubstr("set multiplot layout 1,2 title 'tgi bench ''x'''\n"));
  EXPECT_THAT(*script, HasSubstr("set xlabel 'concurrent clients'\nset ylabel 'throughput (tokens/s)'\n"));
  EXPECT_THAT(*script, HasSubstr("plot $levels using 1:2:xtic(1) with linespoints"));
  EXPECT_THAT(*script,
              HasSubstr("set xlabel 'throughput (tokens/s)'\nset ylabel 'inter-token latency p50 (ms)'\n"));
  EXPECT_THAT(*script, HasSubstr("plot $levels using 2:3 with linespoints"));
  EXPECT_THAT(*script, HasSubstr("unset multiplot\nset output\n"));

  EXPECT_THAT(*gnuplot_script(points, "out.PNG", "t"), HasSubstr("set terminal pngcairo "));
  EXPECT_FALSE(gnuplot_script(points, "out.pdf", "t").ok());
  EXPECT_FALSE(gnuplot_script(points, "out.svg", "two\nlines").ok());
  // No inter-token gaps anywhere: an empty panel that says so (gnuplot refuses all-undefined data).
  EXPECT_THAT(*gnuplot_script({{1, 50.0, std::nullopt}}, "o.svg", "t"), HasSubstr("no inter-token gaps"));
}

TEST(HttpBenchPlot, GnuplotWritesTheSvg) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("http-bench-plot-{}", getpid());
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "load.svg").string();
  auto written = write_plot({{1, 100.0, 5.0}, {2, 180.0, 6.0}, {4, 250.0, 9.0}}, out, "load");
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_THAT(read_all(out), HasSubstr("<svg"));
  written = write_plot({{1, 100.0, std::nullopt}}, out, "one level, one token");
  EXPECT_TRUE(written.ok()) << written.error().message;
  std::filesystem::remove_all(dir);
}

// --- the HTTP client against a scripted server ---

// Accepts connections on a loopback port and answers the requests on each with the next scripted
// raw response, sent in pieces with a pause after each; after a connection's share of responses
// it closes that connection.
class ScriptedServer {
 public:
  using Response = std::vector<std::string>;  // the pieces of one raw response
  explicit ScriptedServer(std::vector<std::vector<Response>> connections)
      : acceptor_(io_, {net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, connections = std::move(connections)] {
      boost::system::error_code ec;
      for (const auto& responses : connections) {
        tcp::socket socket(io_);
        acceptor_.accept(socket, ec);
        if (ec) return;
        beast::flat_buffer buffer;
        for (const Response& pieces : responses) {
          http::request<http::string_body> request;
          http::read(socket, buffer, request, ec);
          if (ec) return;
          requests_.push_back(fmt::format("{} {} {}", std::string(request.target()), request.body(),
                                          std::string(request[http::field::authorization])));
          for (const std::string& piece : pieces) {
            net::write(socket, net::buffer(piece), ec);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }
        socket.shutdown(tcp::socket::shutdown_both, ec);
      }
    });
  }
  ~ScriptedServer() { join(); }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  // Waits for the script to end (or, after a failed test, stops waiting for connections).
  std::vector<std::string> join() {
    if (thread_.joinable()) {
      ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes a pending accept
      thread_.join();
    }
    return requests_;
  }

 private:
  net::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string chunk(const std::string& bytes) {
  return fmt::format("{:x}\r\n{}\r\n", bytes.size(), bytes);
}

TEST(HttpBenchClient, StreamsEventsAsTheyArriveAndReusesTheConnection) {
  const std::string head =
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
  const std::string refusal = R"({"error":"bad input","error_type":"validation"})";
  // Connection 1 serves two requests, then closes: the third request finds it closed and is
  // retried on connection 2.
  ScriptedServer server({
      {{head + chunk("data: {\"index\":1}\n\n"), chunk("data: {\"ind"),
        chunk("ex\":2}\n\n:\n\n") + "0\r\n\r\n"},
       {fmt::format("HTTP/1.1 422 Unprocessable Entity\r\ncontent-type: application/json\r\n"
                    "content-length: {}\r\n\r\n{}",
                    refusal.size(), refusal)}},
      {{head + chunk("data: {\"index\":9}\n\n") + "0\r\n\r\n"}},
  });
  HttpStreamClient client(HttpUrl{"127.0.0.1", server.port(), "/api"}, "key", std::chrono::seconds(10));
  std::vector<std::pair<std::string, double>> events;
  const auto start = Clock::now();
  auto response = client.post_stream("/generate_stream", "{\"a\":1}", [&](const std::string& data) {
    events.emplace_back(data, seconds_between(start, Clock::now()));
  });
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_FALSE(response->truncated_event);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].first, "{\"index\":1}");
  EXPECT_EQ(events[1].first, "{\"index\":2}");
  EXPECT_GT(events[1].second - events[0].second, 0.015);  // each event when it came, not at the end

  response = client.post_stream("/generate_stream", "{\"b\":2}", [&](const std::string&) { ADD_FAILURE(); });
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 422);
  EXPECT_EQ(error_text(response->body), "bad input");

  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // let the server's close land
  events.clear();
  response = client.post_stream("/generate_stream", "{\"c\":3}",
                                [&](const std::string& data) { events.emplace_back(data, 0); });
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "{\"index\":9}");
  EXPECT_THAT(server.join(), ElementsAre("/api/generate_stream {\"a\":1} Bearer key",
                                         "/api/generate_stream {\"b\":2} Bearer key",
                                         "/api/generate_stream {\"c\":3} Bearer key"));
}

TEST(HttpBenchClient, GetReadsAWholeBody) {
  const std::string body = "tgi_speculative_steps 3\n";
  ScriptedServer server({{{fmt::format("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{}", body.size(), body)}}});
  HttpStreamClient client(HttpUrl{"127.0.0.1", server.port(), ""}, "", std::chrono::seconds(10));
  auto response = client.get("/metrics");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, body);
  EXPECT_THAT(server.join(), ElementsAre("/metrics  "));
}

TEST(HttpBenchClient, ARefusedConnectionSaysWhere) {
  std::string port;
  {
    net::io_context io;
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    port = std::to_string(acceptor.local_endpoint().port());
  }  // closed again: nothing listens there now
  HttpStreamClient client(HttpUrl{"127.0.0.1", port, ""}, "");
  const auto connected = client.connect();
  ASSERT_FALSE(connected.ok());
  EXPECT_THAT(connected.error().message, HasSubstr("cannot connect to 127.0.0.1:" + port));
  EXPECT_THAT(connected.error().message, HasSubstr("refused"));
  const auto response = client.post_stream("/generate_stream", "{}", [](const std::string&) {});
  EXPECT_FALSE(response.ok());
}

TEST(HttpBenchClient, ASilentServerFailsTheRequestAtTheDeadline) {
  net::io_context io;
  tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});  // connects land in the backlog
  HttpStreamClient client(HttpUrl{"127.0.0.1", std::to_string(acceptor.local_endpoint().port()), ""}, "",
                          std::chrono::seconds(1));
  const auto start = Clock::now();
  const auto response = client.post_stream("/generate_stream", "{}", [](const std::string&) {});
  ASSERT_FALSE(response.ok());
  EXPECT_THAT(response.error().message, HasSubstr("no response from 127.0.0.1:"));
  EXPECT_LT(seconds_between(start, Clock::now()), 5.0);
}

}  // namespace
}  // namespace tgi::cli
