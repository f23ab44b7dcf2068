#include "formats/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace tgi::formats {

// Read-only mmap of a whole file (or nothing, for parse() of caller-owned bytes).
struct GgufFile::Mapping {
  void* address = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (address) munmap(address, size);
  }
};

namespace {

// Hostile files could otherwise make us allocate without bound: a u8 array costs one byte in the
// file but a GgufValue in memory. Real vocabularies are ~10^6 values in total.
constexpr uint64_t kMaxMetadataValues = 8u << 20;
constexpr int kMaxArrayDepth = 8;

Error corrupt(const std::string& source, const std::string& what) {
  return Error::make(ErrorKind::kCorruptData, "GGUF file {}: {}", source, what);
}

// Bounds-checked little-endian reader over the file image.
class Cursor {
 public:
  Cursor(std::span<const std::byte> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  uint64_t position() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  template <typename T>
  Result<T> read(std::string_view what) {
    if (remaining() < sizeof(T)) {
      return corrupt(source_, fmt::format("truncated while reading {} at offset {}", what, pos_));
    }
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  Result<std::string> read_string(std::string_view what) {
    TGI_ASSIGN_OR_RETURN(uint64_t length, read<uint64_t>(what));
    if (length > remaining()) {
      return corrupt(source_, fmt::format("{} at offset {} claims {} bytes but only {} remain", what,
                                          pos_ - 8, length, remaining()));
    }
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return s;
  }

 private:
  std::span<const std::byte> bytes_;
  const std::string& source_;
  uint64_t pos_ = 0;
};

// The fewest bytes one value of `type` can occupy, to bound counts before allocating.
uint64_t min_encoded_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::kU8:
    case GgufValueType::kI8:
    case GgufValueType::kBool: return 1;
    case GgufValueType::kU16:
    case GgufValueType::kI16: return 2;
    case GgufValueType::kU32:
    case GgufValueType::kI32:
    case GgufValueType::kF32: return 4;
    case GgufValueType::kU64:
    case GgufValueType::kI64:
    case GgufValueType::kF64:
    case GgufValueType::kString: return 8;
    case GgufValueType::kArray: return 4 + 8;
  }
  return 1;
}

bool is_known_value_type(uint32_t id) { return id <= static_cast<uint32_t>(GgufValueType::kF64); }

class MetadataParser {
 public:
  MetadataParser(Cursor& cursor, const std::string& source) : cursor_(cursor), source_(source) {}

  Result<GgufValue> parse_value(GgufValueType type, const std::string& key, int depth) {
    if (++values_ > kMaxMetadataValues) {
      return corrupt(source_, fmt::format("more than {} metadata values", kMaxMetadataValues));
    }
    switch (type) {
      case GgufValueType::kU8: return scalar<uint8_t>(type, key);
      case GgufValueType::kI8: return scalar<int8_t>(type, key);
      case GgufValueType::kU16: return scalar<uint16_t>(type, key);
      case GgufValueType::kI16: return scalar<int16_t>(type, key);
      case GgufValueType::kU32: return scalar<uint32_t>(type, key);
      case GgufValueType::kI32: return scalar<int32_t>(type, key);
      case GgufValueType::kF32: return scalar<float>(type, key);
      case GgufValueType::kU64: return scalar<uint64_t>(type, key);
      case GgufValueType::kI64: return scalar<int64_t>(type, key);
      case GgufValueType::kF64: return scalar<double>(type, key);
      case GgufValueType::kBool: {
        TGI_ASSIGN_OR_RETURN(uint8_t b, cursor_.read<uint8_t>(value_what(key)));
        if (b > 1) return corrupt(source_, fmt::format("bool value {} of key '{}' is not 0 or 1", b, key));
        return GgufValue::boolean(b != 0);
      }
      case GgufValueType::kString: {
        TGI_ASSIGN_OR_RETURN(std::string s, cursor_.read_string(value_what(key)));
        return GgufValue::string(std::move(s));
      }
      case GgufValueType::kArray: return parse_array(key, depth);
    }
    return corrupt(source_, fmt::format("unknown value type of key '{}'", key));
  }

 private:
  std::string value_what(const std::string& key) const { return fmt::format("value of key '{}'", key); }

  template <typename T>
  Result<GgufValue> scalar(GgufValueType type, const std::string& key) {
    TGI_ASSIGN_OR_RETURN(T v, cursor_.read<T>(value_what(key)));
    return GgufValue{type, v};
  }

  Result<GgufValue> parse_array(const std::string& key, int depth) {
    if (depth >= kMaxArrayDepth) {
      return corrupt(source_, fmt::format("arrays of key '{}' nest deeper than {}", key, kMaxArrayDepth));
    }
    TGI_ASSIGN_OR_RETURN(uint32_t element_id, cursor_.read<uint32_t>("array element type"));
    if (!is_known_value_type(element_id)) {
      return corrupt(source_, fmt::format("array of key '{}' has unknown element type {}", key, element_id));
    }
    const auto element_type = static_cast<GgufValueType>(element_id);
    TGI_ASSIGN_OR_RETURN(uint64_t count, cursor_.read<uint64_t>("array length"));
    if (count > cursor_.remaining() / min_encoded_size(element_type)) {
      return corrupt(source_, fmt::format("array of key '{}' claims {} {} elements, more than the {} bytes "
                                          "left can hold",
                                          key, count, gguf_value_type_name(element_type), cursor_.remaining()));
    }
    if (count > kMaxMetadataValues - values_) {
      return corrupt(source_, fmt::format("array of key '{}' has {} elements, over the limit of {} values",
                                          key, count, kMaxMetadataValues));
    }
    GgufArray array{element_type, {}};
    array.items.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      TGI_ASSIGN_OR_RETURN(GgufValue item, parse_value(element_type, key, depth + 1));
      array.items.push_back(std::move(item));
    }
    return GgufValue{GgufValueType::kArray, std::move(array)};
  }

  Cursor& cursor_;
  const std::string& source_;
  uint64_t values_ = 0;
};

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }

}  // namespace

int64_t GgufTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::vector<int64_t> GgufTensor::shape() const { return {dims.rbegin(), dims.rend()}; }

std::optional<TensorView> GgufTensor::as_tensor_view() const {
  DType dtype;
  switch (type) {
    case GgmlType::kF32: dtype = DType::kF32; break;
    case GgmlType::kF16: dtype = DType::kF16; break;
    case GgmlType::kBF16: dtype = DType::kBF16; break;
    default: return std::nullopt;
  }
  return TensorView{name, dtype, shape(), data, nbytes};
}

GgufFile::~GgufFile() = default;

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::filesystem::path& path) {
  const std::string source = path.string();
  const int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const auto kind = errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo;
    return Error::make(kind, "cannot open GGUF file {}: {}", source, std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error::make(ErrorKind::kIo, "cannot stat GGUF file {}: {}", source, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::make(ErrorKind::kInvalidArgument, "GGUF path {} is not a regular file", source);
  }
  auto mapping = std::make_unique<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  if (mapping->size > 0) {
    void* address = mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (address == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Error::make(ErrorKind::kIo, "cannot mmap GGUF file {}: {}", source, std::strerror(err));
    }
    mapping->address = address;
  }
  ::close(fd);

  std::unique_ptr<GgufFile> file(new GgufFile());
  const std::span<const std::byte> bytes(static_cast<const std::byte*>(mapping->address), mapping->size);
  file->mapping_ = std::move(mapping);
  TGI_TRY(file->parse_image(bytes, source));
  return file;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(std::span<const std::byte> bytes, std::string source_name) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  TGI_TRY(file->parse_image(bytes, source_name));
  return file;
}

Result<void> GgufFile::parse_image(std::span<const std::byte> bytes, const std::string& source) {
  Cursor cursor(bytes, source);
  TGI_ASSIGN_OR_RETURN(uint32_t magic, cursor.read<uint32_t>("magic"));
  if (magic != kGgufMagic) return corrupt(source, "not a GGUF file (bad magic)");
  TGI_ASSIGN_OR_RETURN(version_, cursor.read<uint32_t>("version"));
  if (version_ == 1) {
    return Error::make(ErrorKind::kUnsupported, "GGUF file {}: version 1 is not supported (only 2 and 3)", source);
  }
  if (version_ != 2 && version_ != 3) {
    // A byte-swapped small number means a big-endian file.
    if ((version_ & 0xFFFF) == 0 && __builtin_bswap32(version_) <= 3) {
      return Error::make(ErrorKind::kUnsupported, "GGUF file {}: big-endian files are not supported", source);
    }
    return Error::make(ErrorKind::kUnsupported, "GGUF file {}: unsupported version {}", source, version_);
  }
  TGI_ASSIGN_OR_RETURN(uint64_t tensor_count, cursor.read<uint64_t>("tensor count"));
  TGI_ASSIGN_OR_RETURN(uint64_t kv_count, cursor.read<uint64_t>("metadata count"));
  // Smallest encodings: a key/value pair is key length + value type + a 1-byte value; a tensor
  // info is name length + n_dims + type + offset.
  if (kv_count > cursor.remaining() / (8 + 4 + 1)) {
    return corrupt(source, fmt::format("metadata count {} is more than the file can hold", kv_count));
  }
  if (tensor_count > cursor.remaining() / (8 + 4 + 4 + 8)) {
    return corrupt(source, fmt::format("tensor count {} is more than the file can hold", tensor_count));
  }

  MetadataParser parser(cursor, source);
  metadata_.reserve(kv_count);
  for (uint64_t i = 0; i < kv_count; ++i) {
    TGI_ASSIGN_OR_RETURN(std::string key, cursor.read_string("metadata key"));
    TGI_ASSIGN_OR_RETURN(uint32_t type_id, cursor.read<uint32_t>("metadata value type"));
    if (!is_known_value_type(type_id)) {
      return corrupt(source, fmt::format("key '{}' has unknown value type {}", key, type_id));
    }
    if (metadata_index_.count(key)) return corrupt(source, fmt::format("duplicate metadata key '{}'", key));
    TGI_ASSIGN_OR_RETURN(GgufValue value, parser.parse_value(static_cast<GgufValueType>(type_id), key, 0));
    metadata_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* alignment = find_value("general.alignment")) {
    const auto* a = std::get_if<uint32_t>(&alignment->storage);
    if (!a) {
      return corrupt(source, fmt::format("general.alignment must be a u32, got {}",
                                         gguf_value_type_name(alignment->type)));
    }
    if (*a == 0 || (*a & (*a - 1)) != 0) {
      return corrupt(source, fmt::format("general.alignment {} is not a power of two", *a));
    }
    alignment_ = *a;
  }

  tensors_.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensor tensor;
    TGI_ASSIGN_OR_RETURN(tensor.name, cursor.read_string("tensor name"));
    TGI_ASSIGN_OR_RETURN(uint32_t n_dims, cursor.read<uint32_t>("tensor dimension count"));
    if (n_dims == 0 || n_dims > kGgufMaxDims) {
      return corrupt(source, fmt::format("tensor '{}' has {} dimensions (1 to {} allowed)", tensor.name, n_dims,
                                         kGgufMaxDims));
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      TGI_ASSIGN_OR_RETURN(uint64_t dim, cursor.read<uint64_t>("tensor dimension"));
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || !checked_mul(elements, dim, &elements) ||
          elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return corrupt(source, fmt::format("tensor '{}' has an element count that overflows", tensor.name));
      }
      tensor.dims.push_back(static_cast<int64_t>(dim));
    }
    TGI_ASSIGN_OR_RETURN(uint32_t type_id, cursor.read<uint32_t>("tensor type"));
    const auto type = ggml_type_from_id(type_id);
    if (!type) {
      return Error::make(ErrorKind::kUnsupported, "GGUF file {}: tensor '{}' has unsupported ggml type {}", source,
                         tensor.name, type_id);
    }
    tensor.type = *type;
    TGI_ASSIGN_OR_RETURN(tensor.offset, cursor.read<uint64_t>("tensor offset"));
    const GgmlTypeTraits traits = *ggml_type_traits(tensor.type);
    if (tensor.dims[0] % traits.block_elements != 0) {
      return corrupt(source, fmt::format("tensor '{}' of type {} has a row of {} elements, not a multiple of "
                                         "its block size {}",
                                         tensor.name, traits.name, tensor.dims[0], traits.block_elements));
    }
    uint64_t nbytes = 0;
    if (!checked_mul(elements / traits.block_elements, traits.block_bytes, &nbytes)) {
      return corrupt(source, fmt::format("tensor '{}' byte size overflows", tensor.name));
    }
    tensor.nbytes = nbytes;
    if (tensor.offset % alignment_ != 0) {
      return corrupt(source, fmt::format("tensor '{}' offset {} is not a multiple of the alignment {}",
                                         tensor.name, tensor.offset, alignment_));
    }
    if (tensor_index_.count(tensor.name)) {
      return corrupt(source, fmt::format("duplicate tensor name '{}'", tensor.name));
    }
    tensor_index_.emplace(tensor.name, tensors_.size());
    tensors_.push_back(std::move(tensor));
  }

  // The data section starts at the next multiple of the alignment after the tensor infos.
  const uint64_t header_end = cursor.position();
  data_offset_ = (header_end + alignment_ - 1) / alignment_ * alignment_;
  if (!tensors_.empty() && data_offset_ > bytes.size()) {
    return corrupt(source, fmt::format("data section at offset {} lies past the end of the file ({} bytes)",
                                       data_offset_, bytes.size()));
  }
  const uint64_t data_size = tensors_.empty() ? 0 : bytes.size() - data_offset_;
  for (GgufTensor& tensor : tensors_) {
    if (tensor.offset > data_size || tensor.nbytes > data_size - tensor.offset) {
      return corrupt(source, fmt::format("tensor '{}' ({} bytes at data offset {}) extends past the end of "
                                         "the file (data section holds {} bytes)",
                                         tensor.name, tensor.nbytes, tensor.offset, data_size));
    }
    tensor.data = bytes.data() + data_offset_ + tensor.offset;
  }
  return {};
}

const GgufValue* GgufFile::find_value(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* value = find_value(key);
  if (!value) return Error::make(ErrorKind::kNotFound, "GGUF metadata key '{}' is missing", key);
  const auto v = value->as_int();
  if (!v) {
    return Error::make(ErrorKind::kCorruptData, "GGUF metadata key '{}' is a {}, expected an integer", key,
                       gguf_value_type_name(value->type));
  }
  return *v;
}

Result<double> GgufFile::get_double(std::string_view key) const {
  const GgufValue* value = find_value(key);
  if (!value) return Error::make(ErrorKind::kNotFound, "GGUF metadata key '{}' is missing", key);
  const auto v = value->as_double();
  if (!v) {
    return Error::make(ErrorKind::kCorruptData, "GGUF metadata key '{}' is a {}, expected a number", key,
                       gguf_value_type_name(value->type));
  }
  return *v;
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* value = find_value(key);
  if (!value) return Error::make(ErrorKind::kNotFound, "GGUF metadata key '{}' is missing", key);
  const auto* s = value->as_string();
  if (!s) {
    return Error::make(ErrorKind::kCorruptData, "GGUF metadata key '{}' is a {}, expected a string", key,
                       gguf_value_type_name(value->type));
  }
  return *s;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace tgi::formats
