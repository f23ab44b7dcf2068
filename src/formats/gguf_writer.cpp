#include "formats/gguf_writer.h"

#include <cstring>
#include <fstream>

#include "formats/gguf_file.h"

namespace tgi::formats {
namespace {

class LittleEndianSink {
 public:
  explicit LittleEndianSink(std::ostream& out) : out_(out) {}

  template <typename T>
  void put(T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out_.write(bytes, sizeof(T));
    written_ += sizeof(T);
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    put_bytes(s.data(), s.size());
  }
  void put_bytes(const void* data, size_t n) {
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    written_ += n;
  }
  void pad_to(uint64_t alignment) {
    static const char zeros[64] = {};
    uint64_t pad = (alignment - written_ % alignment) % alignment;
    while (pad > 0) {
      const uint64_t n = std::min<uint64_t>(pad, sizeof(zeros));
      put_bytes(zeros, n);
      pad -= n;
    }
  }
  uint64_t written() const { return written_; }

  void put_value(const GgufValue& value) {
    std::visit(
        [this, &value](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            put_string(v);
          } else if constexpr (std::is_same_v<T, GgufArray>) {
            put<uint32_t>(static_cast<uint32_t>(v.element_type));
            put<uint64_t>(v.items.size());
            for (const auto& item : v.items) put_value(item);
          } else if constexpr (std::is_same_v<T, bool>) {
            put<uint8_t>(v ? 1 : 0);
          } else {
            put<T>(v);
          }
          (void)value;
        },
        value.storage);
  }

 private:
  std::ostream& out_;
  uint64_t written_ = 0;
};

// A value whose declared type disagrees with what it holds would write an unreadable file.
bool value_is_consistent(const GgufValue& value) {
  static constexpr GgufValueType kTypeOfIndex[] = {
      GgufValueType::kU8,  GgufValueType::kI8,     GgufValueType::kU16,  GgufValueType::kI16, GgufValueType::kU32,
      GgufValueType::kI32, GgufValueType::kF32,    GgufValueType::kBool, GgufValueType::kString,
      GgufValueType::kArray, GgufValueType::kU64, GgufValueType::kI64, GgufValueType::kF64};
  if (kTypeOfIndex[value.storage.index()] != value.type) return false;
  if (const auto* array = value.as_array()) {
    for (const auto& item : array->items) {
      if (item.type != array->element_type || !value_is_consistent(item)) return false;
    }
  }
  return true;
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

}  // namespace

Result<uint64_t> ggml_tensor_nbytes(GgmlType type, const std::vector<int64_t>& dims) {
  const auto traits = ggml_type_traits(type);
  if (!traits) return Error::make(ErrorKind::kUnsupported, "unknown ggml type {}", static_cast<uint32_t>(type));
  if (dims.empty() || dims.size() > static_cast<size_t>(kGgufMaxDims)) {
    return Error::make(ErrorKind::kInvalidArgument, "a GGUF tensor has 1 to {} dimensions, got {}", kGgufMaxDims,
                       dims.size());
  }
  uint64_t elements = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(elements, static_cast<uint64_t>(d), &elements)) {
      return Error::make(ErrorKind::kInvalidArgument, "invalid tensor dimension {}", d);
    }
  }
  if (dims[0] % traits->block_elements != 0) {
    return Error::make(ErrorKind::kInvalidArgument, "{} needs rows that are a multiple of {} elements, got {}",
                       traits->name, traits->block_elements, dims[0]);
  }
  return elements / traits->block_elements * traits->block_bytes;
}

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment_ != kGgufDefaultAlignment) set("general.alignment", GgufValue::u32(alignment_));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

Result<void> GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> dims,
                                    std::optional<std::vector<std::byte>> data) {
  TGI_ASSIGN_OR_RETURN(uint64_t nbytes, ggml_tensor_nbytes(type, dims));
  if (data && data->size() != nbytes) {
    return Error::make(ErrorKind::kInvalidArgument, "tensor '{}' has {} bytes of data, its shape needs {}", name,
                       data->size(), nbytes);
  }
  for (const auto& t : tensors_) {
    if (t.name == name) return Error::make(ErrorKind::kInvalidArgument, "duplicate tensor name '{}'", name);
  }
  tensors_.push_back(Tensor{std::move(name), type, std::move(dims), nbytes, std::move(data)});
  return {};
}

Result<void> GgufWriter::write(std::ostream& out, const TensorProducer& produce) const {
  for (const auto& [key, value] : metadata_) {
    if (!value_is_consistent(value)) {
      return Error::make(ErrorKind::kInternal, "GGUF metadata '{}' holds a value of the wrong type", key);
    }
  }
  LittleEndianSink sink(out);
  sink.put<uint32_t>(kGgufMagic);
  sink.put<uint32_t>(3);
  sink.put<uint64_t>(tensors_.size());
  sink.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    sink.put_string(key);
    sink.put<uint32_t>(static_cast<uint32_t>(value.type));
    sink.put_value(value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    sink.put_string(t.name);
    sink.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) sink.put<uint64_t>(static_cast<uint64_t>(d));
    sink.put<uint32_t>(static_cast<uint32_t>(t.type));
    sink.put<uint64_t>(offset);
    offset = align_up(offset + t.nbytes, alignment_);
  }
  sink.pad_to(alignment_);
  std::vector<std::byte> buffer;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    const std::vector<std::byte>* bytes = nullptr;
    if (t.data) {
      bytes = &*t.data;
    } else {
      if (!produce) return Error::make(ErrorKind::kInternal, "no data for GGUF tensor '{}'", t.name);
      buffer.clear();
      TGI_TRY(produce(i, buffer));
      bytes = &buffer;
    }
    if (bytes->size() != t.nbytes) {
      return Error::make(ErrorKind::kInternal, "GGUF tensor '{}' was produced with {} bytes, expected {}", t.name,
                         bytes->size(), t.nbytes);
    }
    sink.put_bytes(bytes->data(), bytes->size());
    sink.pad_to(alignment_);
    if (!out) return Error::make(ErrorKind::kIo, "write failed at GGUF tensor '{}'", t.name);
  }
  if (!out) return Error::make(ErrorKind::kIo, "write of GGUF file failed");
  return {};
}

Result<void> GgufWriter::write_file(const std::filesystem::path& path, const TensorProducer& produce) const {
  const std::filesystem::path temporary = path.string() + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return Error::make(ErrorKind::kIo, "cannot create {}", temporary.string());
    auto written = write(out, produce);
    out.close();
    if (!written.ok() || !out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      if (!written.ok()) return written.error();
      return Error::make(ErrorKind::kIo, "cannot write {}", temporary.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot rename {} to {}: {}", temporary.string(), path.string(), ec.message());
  return {};
}

}  // namespace tgi::formats
