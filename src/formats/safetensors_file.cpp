// Parsing of one .safetensors image: 8-byte little-endian header length, a JSON header mapping
// tensor names to {dtype, shape, data_offsets}, then the data section. Every check that keeps a
// view inside the image happens here, so a TensorView handed out is always in bounds.
#include <algorithm>
#include <cstring>
#include <limits>

#include "formats/mapped_file.h"
#include "formats/safetensors.h"
#include "formats/strict_json.h"

namespace tgi::formats {
namespace {

using json = nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";

uint64_t read_le_u64(const std::byte* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint64_t>(p[i]);
  return value;
}

Error corrupt(const std::string& source, const std::string& what) {
  return Error::make(ErrorKind::kCorruptData, "{}: {}", source, what);
}

// Shape and byte size of one header entry; the element count is checked against int64 at every
// prefix so TensorView::num_elements() can never overflow.
Result<std::vector<int64_t>> parse_shape(const json& shape, const std::string& where) {
  if (!shape.is_array()) return Error{ErrorKind::kCorruptData, where + ": \"shape\" must be an array"};
  std::vector<int64_t> dims;
  dims.reserve(shape.size());
  int64_t elements = 1;
  for (const json& dim : shape) {
    if (dim.is_number_integer() && !dim.is_number_unsigned()) {
      return Error{ErrorKind::kCorruptData, where + ": negative dimension " + dim.dump() + " in shape"};
    }
    if (!dim.is_number_unsigned()) {
      return Error{ErrorKind::kCorruptData, where + ": shape dimension " + dim.dump() + " is not an integer"};
    }
    auto value = dim.get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(elements, static_cast<int64_t>(value), &elements)) {
      return Error{ErrorKind::kCorruptData, where + ": shape " + shape.dump() + " overflows the element count"};
    }
    dims.push_back(static_cast<int64_t>(value));
  }
  return dims;
}

struct Extent {
  uint64_t begin, end;
  size_t tensor;  // position in the tensor list
};

}  // namespace

SafetensorsFile::~SafetensorsFile() = default;

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::filesystem::path& path) {
  TGI_ASSIGN_OR_RETURN(auto mapping, MappedFile::open(path));
  TGI_ASSIGN_OR_RETURN(auto file, parse(mapping->bytes(), path.string()));
  file->mapping_ = std::move(mapping);
  return file;
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::parse(std::span<const std::byte> bytes,
                                                                std::string source_name) {
  const std::string& src = source_name;
  if (bytes.size() < 8) {
    return corrupt(src, fmt::format("file is {} bytes, too short for the 8-byte header length", bytes.size()));
  }
  const uint64_t header_len = read_le_u64(bytes.data());
  if (header_len > kMaxHeaderBytes) {
    return corrupt(src, fmt::format("header length {} exceeds the {} byte limit", header_len, kMaxHeaderBytes));
  }
  if (header_len > bytes.size() - 8) {
    return corrupt(src, fmt::format("header length {} runs past the end of the {}-byte file", header_len,
                                    bytes.size()));
  }
  std::string_view header_text(reinterpret_cast<const char*>(bytes.data() + 8), header_len);
  if (header_text.empty() || header_text.front() != '{') {
    return corrupt(src, "header does not start with a JSON object");
  }
  TGI_ASSIGN_OR_RETURN(json header, parse_strict_json(header_text, src + " header", {.max_depth = 8}));
  if (!header.is_object()) return corrupt(src, "header is not a JSON object");

  const std::byte* data = bytes.data() + 8 + header_len;
  const uint64_t data_size = bytes.size() - 8 - header_len;

  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->source_name_ = source_name;
  std::vector<Extent> extents;
  std::vector<TensorView> tensors;
  tensors.reserve(header.size());
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      if (!entry.is_object()) return corrupt(src, "\"__metadata__\" must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          return corrupt(src, fmt::format("\"__metadata__\" value for \"{}\" is not a string", key));
        }
        file->metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = fmt::format("{}: tensor \"{}\"", src, name);
    if (!entry.is_object()) return Error{ErrorKind::kCorruptData, where + ": entry is not a JSON object"};
    auto dtype_it = entry.find("dtype");
    auto shape_it = entry.find("shape");
    auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || shape_it == entry.end() || offsets_it == entry.end()) {
      return Error{ErrorKind::kCorruptData, where + ": entry needs \"dtype\", \"shape\" and \"data_offsets\""};
    }
    if (!dtype_it->is_string()) return Error{ErrorKind::kCorruptData, where + ": \"dtype\" is not a string"};
    auto dtype = parse_dtype(dtype_it->get_ref<const std::string&>());
    if (!dtype) {
      return Error{ErrorKind::kUnsupported,
                   where + ": unknown dtype \"" + dtype_it->get<std::string>() +
                       "\" (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL F8_E4M3 F8_E5M2)"};
    }
    TGI_ASSIGN_OR_RETURN(auto shape, parse_shape(*shape_it, where));
    const json& offsets = *offsets_it;
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      return Error{ErrorKind::kCorruptData, where + ": \"data_offsets\" must be two non-negative integers"};
    }
    const auto begin = offsets[0].get<uint64_t>();
    const auto end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return Error{ErrorKind::kCorruptData,
                   fmt::format("{}: data_offsets [{}, {}] outside the {}-byte data section", where, begin, end,
                               data_size)};
    }
    TensorView view;
    view.name = name;
    view.dtype = *dtype;
    view.shape = std::move(shape);
    uint64_t expected_bytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(view.num_elements()), dtype_size(*dtype), &expected_bytes)) {
      return Error{ErrorKind::kCorruptData, where + ": shape " + shape_it->dump() + " overflows the byte size"};
    }
    if (expected_bytes != end - begin) {
      return Error{ErrorKind::kCorruptData,
                   fmt::format("{}: shape {} of {} needs {} bytes but data_offsets span {}", where,
                               shape_it->dump(), dtype_name(*dtype), expected_bytes, end - begin)};
    }
    view.data = data + begin;
    view.nbytes = static_cast<size_t>(end - begin);
    extents.push_back({begin, end, tensors.size()});
    tensors.push_back(std::move(view));
  }

  // The data section must be tiled exactly: no overlaps (two names for the same bytes), no holes.
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const std::string* previous = nullptr;
  for (const Extent& extent : extents) {
    const std::string& name = tensors[extent.tensor].name;
    if (extent.begin < covered) {
      return corrupt(src, fmt::format("tensor \"{}\" overlaps tensor \"{}\" in the data section", name,
                                      previous ? *previous : std::string()));
    }
    if (extent.begin > covered) {
      return corrupt(src, fmt::format("bytes [{}, {}) of the data section belong to no tensor", covered,
                                      extent.begin));
    }
    covered = extent.end;
    previous = &name;
  }
  if (covered != data_size) {
    return corrupt(src, fmt::format("bytes [{}, {}) of the data section belong to no tensor", covered, data_size));
  }

  // File order: the order of the bytes, which is how writers lay tensors out.
  file->tensors_.reserve(tensors.size());
  for (const Extent& extent : extents) file->tensors_.push_back(std::move(tensors[extent.tensor]));
  for (size_t i = 0; i < file->tensors_.size(); ++i) file->index_.emplace(file->tensors_[i].name, i);
  return file;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace tgi::formats
