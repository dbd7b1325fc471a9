#include "json_input.hpp"

#include <set>
#include <vector>

#include "ctrnn/error.hpp"

namespace ctrnn::detail {

using nlohmann::json;

void check_json_depth(const std::string& text, const std::string& what) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char ch : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxJsonDepth)
        throw InvalidArgument(what, "JSON nested at most " + std::to_string(kMaxJsonDepth) + " levels deep",
                              "deeper nesting");
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
}

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is the reason.
std::string reason(const json::exception& e) {
  const std::string s = e.what();
  const size_t end = s.find("] ");
  return end == std::string::npos ? s : s.substr(end + 2);
}

// The keys that lead to where the parser is, for messages; refuses a repeated key.
class KeyTracker {
 public:
  explicit KeyTracker(std::string what) : what_(std::move(what)) {}

  bool on_event(json::parse_event_t event, const json& parsed) {
    last_ = event;
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({true, {}, ""}); break;
      case json::parse_event_t::array_start: frames_.push_back({false, {}, ""}); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key: {
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second)
          throw InvalidArgument(path(), "each key at most once per object", "'" + f.key + "' repeated");
        break;
      }
      case json::parse_event_t::value: break;
    }
    return true;
  }

  std::string path() const { return path_of(frames_.size()); }

  // Where a syntax error is: inside the value of the latest key, or, when an object's key was
  // being read (after its start or a complete value), in the key after the latest one, which
  // must not be blamed itself.
  // Returns the parameter to name and, for a key, which one ("" otherwise).
  std::pair<std::string, std::string> error_location() const {
    if (frames_.empty() || !frames_.back().is_object || last_ == json::parse_event_t::key) return {path(), ""};
    const std::string& after = frames_.back().key;
    return {path_of(frames_.size() - 1), after.empty() ? "in its first key: " : "in the key after '" + after + "': "};
  }

 private:
  struct Frame {
    bool is_object;
    std::set<std::string> keys;
    std::string key;  // the latest key of an object
  };
  // The keys of the first n frames.
  std::string path_of(size_t n) const {
    std::string p;
    for (size_t i = 0; i < n; ++i)
      if (frames_[i].is_object && !frames_[i].key.empty()) p += (p.empty() ? "" : ".") + frames_[i].key;
    return p.empty() ? what_ : p;
  }

  std::string what_;
  std::vector<Frame> frames_;
  json::parse_event_t last_ = json::parse_event_t::value;
};

}  // namespace

json parse_json_input(const std::string& text, const std::string& what) {
  check_json_depth(text, what);
  KeyTracker keys(what);
  try {
    return json::parse(text, [&](int, json::parse_event_t event, json& parsed) { return keys.on_event(event, parsed); });
  } catch (const json::out_of_range& e) {
    throw InvalidArgument(keys.path(), "a number within double's range (about 1.8e308)", reason(e));
  } catch (const json::exception& e) {
    const auto [parameter, key] = keys.error_location();
    throw InvalidArgument(parameter, "valid JSON", key + reason(e));
  }
}

bool is_utf8(const std::string& text) {
  try {
    (void)json(text).dump();  // nlohmann's strict check, the one every dump applies
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

std::string brief(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace ctrnn::detail
