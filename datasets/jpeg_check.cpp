#include "datasets/jpeg_check.h"

#include <fstream>
#include <iterator>
#include <vector>

#include "core/error.h"

namespace qnn::data {

namespace {

// Bytes as stb_image reads them: 0 past the end.
struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  int get8() {
    const int b = pos < size ? data[pos] : 0;
    ++pos;
    return b;
  }
  int get16() {
    const int hi = get8();
    return hi << 8 | get8();
  }
};

// What the segments seen so far define, as stb_image tracks it.
struct Tables {
  bool dc[4] = {}, ac[4] = {};
  bool progressive = false;
};

// A DHT segment whose length field is at `pos`, read as stb_image's stbi__process_marker does:
// tables of [class/id byte, 16 counts, n symbols] while the declared length lasts.
void check_dht(const uint8_t* data, size_t size, size_t pos, Tables& tables, const std::string& what) {
  Reader r{data, size, pos};
  int remaining = r.get16() - 2;
  while (remaining > 0) {
    const int q = r.get8();
    const int table_class = q >> 4, id = q & 15;
    if (table_class > 1 || id > 3)
      return;  // stb_image refuses the segment ("bad DHT header") before building anything
    int n = 0;
    for (int i = 0; i < 16; ++i)
      n += r.get8();
    QNN_CHECK(n <= 256, "decode_image",
              what << ": JPEG Huffman table " << (table_class ? "AC" : "DC") << id << " at byte " << pos - 2
                   << " declares " << n
                   << " codes (expected at most 256; a corrupt or crafted file, which stb_image 2.27 would decode"
                      " past its table)");
    (table_class ? tables.ac : tables.dc)[id] = true;
    r.pos += static_cast<size_t>(n);
    remaining -= 17 + n;
  }
}

// A scan header (SOS) whose length field is at `pos`: every Huffman table the scan decodes with
// must have been defined. stb_image does not check it and decodes with its uninitialized memory
// (huge symbol indices: out-of-bounds reads). Baseline scans use both tables of each component;
// progressive ones the DC table in a first DC scan, the AC table in an AC scan, none in a DC
// refinement, as stb_image's decoders do.
void check_sos(const uint8_t* data, size_t size, size_t pos, const Tables& tables, const std::string& what) {
  Reader r{data, size, pos};
  r.get16();
  const int components = r.get8();
  if (components < 1 || components > 4)
    return;  // stb_image refuses the scan
  int selectors[4] = {};
  for (int i = 0; i < components; ++i) {
    r.get8();  // component id
    selectors[i] = r.get8();
  }
  const int spectral_start = r.get8();
  r.get8();  // spectral end
  const int approximation_high = r.get8() >> 4;
  const bool uses_dc = !tables.progressive || (spectral_start == 0 && approximation_high == 0);
  const bool uses_ac = !tables.progressive || spectral_start != 0;
  for (int i = 0; i < components; ++i) {
    const int dc = selectors[i] >> 4, ac = selectors[i] & 15;
    if (dc > 3 || ac > 3)
      return;  // stb_image refuses the scan
    const int missing_dc = uses_dc && !tables.dc[dc], missing_ac = uses_ac && !tables.ac[ac];
    QNN_CHECK(!missing_dc && !missing_ac, "decode_image",
              what << ": JPEG scan at byte " << pos - 2 << " decodes with Huffman table " << (missing_dc ? "DC" : "AC")
                   << (missing_dc ? dc : ac)
                   << ", which no DHT segment before it defines (expected a defined table; stb_image 2.27 would"
                      " decode with uninitialized memory)");
  }
}

}  // namespace

void check_jpeg_tables(const uint8_t* data, size_t size, const std::string& what) {
  // SOI, after any number of 0xFF fill bytes (stb_image reads markers so); anything else is not a
  // JPEG to stb_image either.
  size_t pos = 0;
  while (pos < size && data[pos] == 0xFF)
    ++pos;
  if (pos == 0 || pos >= size || data[pos] != 0xD8)
    return;
  ++pos;
  Tables tables;
  while (pos < size) {
    // The next marker: 0xFF, any 0xFF fill bytes, the marker byte. Skipping what lies before the
    // 0xFF passes over the entropy-coded data of a scan, as stb_image's bit reader stops at the
    // first 0xFF that is not followed by 0x00.
    while (pos < size && data[pos] != 0xFF)
      ++pos;
    while (pos < size && data[pos] == 0xFF)
      ++pos;
    if (pos >= size)
      return;
    const uint8_t marker = data[pos++];
    if (marker == 0xD9)
      return;  // EOI: stb_image stops here
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
      continue;  // a stuffed zero inside a scan, TEM, RSTn, SOI: no length follows
    if (pos + 2 > size)
      return;
    if (marker == 0xC4)
      check_dht(data, size, pos, tables, what);
    else if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2)
      tables.progressive = marker == 0xC2;  // the frame types stb_image decodes
    else if (marker == 0xDA)
      check_sos(data, size, pos, tables, what);
    // Every segment, the scan header (SOS) included, is then skipped by its length.
    pos += static_cast<size_t>(data[pos]) << 8 | data[pos + 1];
  }
}

void check_jpeg_tables_in_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return;
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check_jpeg_tables(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

}  // namespace qnn::data
