// A model directory's weights: one file, an index naming shards, or every *.safetensors file.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "formats/safetensors.h"
#include "formats/strict_json.h"

namespace tgi::formats {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

Result<std::string> read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::make(ErrorKind::kIo, "cannot read {}", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A shard named by an index must be a plain file name in the same directory: a hostile index
// must not make us open ../../something.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

struct ShardPlan {
  std::vector<std::string> shard_names;                  // distinct, in first-mention order
  std::vector<std::pair<std::string, std::string>> map;  // tensor -> shard, as the index says
};

Result<ShardPlan> read_index(const fs::path& index_path) {
  TGI_ASSIGN_OR_RETURN(auto text, read_text_file(index_path));
  TGI_ASSIGN_OR_RETURN(auto index, parse_strict_json(text, index_path.string()));
  if (!index.is_object()) return Error::make(ErrorKind::kCorruptData, "{}: not a JSON object", index_path.string());
  auto weight_map = index.find("weight_map");
  if (weight_map == index.end() || !weight_map->is_object()) {
    return Error::make(ErrorKind::kCorruptData, "{}: missing \"weight_map\" object", index_path.string());
  }
  ShardPlan plan;
  std::set<std::string> seen;
  for (const auto& [tensor, shard] : weight_map->items()) {
    if (!shard.is_string() || !is_plain_file_name(shard.get<std::string>())) {
      return Error::make(ErrorKind::kCorruptData, "{}: tensor \"{}\" maps to {}, not a file name in the directory",
                         index_path.string(), tensor, shard.dump());
    }
    const auto& shard_name = shard.get_ref<const std::string&>();
    if (seen.insert(shard_name).second) plan.shard_names.push_back(shard_name);
    plan.map.emplace_back(tensor, shard_name);
  }
  if (plan.shard_names.empty()) {
    return Error::make(ErrorKind::kCorruptData, "{}: \"weight_map\" is empty", index_path.string());
  }
  return plan;
}

}  // namespace

Result<std::unique_ptr<SafetensorsModel>> SafetensorsModel::open_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Error::make(ErrorKind::kNotFound, "{} is not a directory", dir.string());
  }
  std::vector<fs::path> paths;
  std::optional<ShardPlan> plan;
  if (fs::is_regular_file(dir / kSingleFile, ec)) {
    paths.push_back(dir / kSingleFile);
  } else if (fs::is_regular_file(dir / kIndexFile, ec)) {
    TGI_ASSIGN_OR_RETURN(plan, read_index(dir / kIndexFile));
    for (const auto& name : plan->shard_names) paths.push_back(dir / name);
  } else {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".safetensors" && entry.is_regular_file(ec)) paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) {
      return Error::make(ErrorKind::kNotFound, "{} has no {}, no {} and no *.safetensors file", dir.string(),
                         kSingleFile, kIndexFile);
    }
  }

  auto model = std::unique_ptr<SafetensorsModel>(new SafetensorsModel());
  for (const auto& path : paths) {
    TGI_ASSIGN_OR_RETURN(auto file, SafetensorsFile::open(path));
    for (const TensorView& tensor : file->tensors()) {
      auto [it, inserted] = model->by_name_.emplace(tensor.name, &tensor);
      if (!inserted) {
        return Error::make(ErrorKind::kCorruptData, "tensor \"{}\" is stored twice in {}", tensor.name,
                           dir.string());
      }
    }
    model->files_.push_back(std::move(file));
  }
  if (plan) {
    // The index must tell the truth: each tensor it names is in the shard it names.
    std::map<std::string, const SafetensorsFile*> file_by_name;
    for (const auto& file : model->files_) {
      file_by_name[fs::path(file->source_name()).filename().string()] = file.get();
    }
    for (const auto& [tensor, shard] : plan->map) {
      const SafetensorsFile* file = file_by_name[shard];
      if (file == nullptr || file->find(tensor) == nullptr) {
        return Error::make(ErrorKind::kCorruptData, "{}: tensor \"{}\" is not in {} as the index says",
                           (dir / kIndexFile).string(), tensor, shard);
      }
    }
  }
  return model;
}

const TensorView* SafetensorsModel::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Result<const TensorView*> SafetensorsModel::require(std::string_view name) const {
  if (const TensorView* view = find(name)) return view;
  return Error::make(ErrorKind::kNotFound, "tensor \"{}\" not found in the model's safetensors files", name);
}

std::vector<const TensorView*> SafetensorsModel::all() const {
  std::vector<const TensorView*> views;
  views.reserve(by_name_.size());
  for (const auto& [name, view] : by_name_) views.push_back(view);
  return views;
}

}  // namespace tgi::formats
