#pragma once
// What stb_image cannot be trusted with. Debian 12 ships stb_image 2.27, whose JPEG decoder
// - builds each Huffman table (at most 256 codes) from the 16 code counts of a DHT segment without
//   checking that they sum to at most 256 (upstream 2.28 added the check): a crafted JPEG makes it
//   write up to 3.8 KB past the table, over the rest of the decoder's state, function pointers
//   included;
// - decodes a scan with whatever Huffman table its header names, defined or not: an undefined one
//   is uninitialized memory, and the symbol indices it gives read far out of bounds.
// Both found by tests/fuzz/fuzz_image. decode_image runs this check before stb_image sees a file;
// anything else that hands bytes to stb_image (stbi_info included: tables before the frame header
// are built while reading it) must run it first too.
#include <cstddef>
#include <cstdint>
#include <string>

namespace qnn::data {

// Throws qnn::Error "decode_image: <what>: JPEG ..." when `data` is a JPEG with a Huffman table of
// more than 256 codes or a scan that uses a table no DHT segment before it defines, walking its
// segments as stb_image does (scans included: progressive files define tables between them).
// Anything else passes.
void check_jpeg_tables(const uint8_t* data, size_t size, const std::string& what);
// The same on the file at `path`; a file that cannot be read passes (the decoder reports it).
void check_jpeg_tables_in_file(const std::string& path);

}  // namespace qnn::data
