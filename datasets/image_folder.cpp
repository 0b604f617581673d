#include "datasets/image_folder.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "core/error.h"
#include "datasets/jpeg_check.h"
#include "datasets/pixel_limit.h"

// stb_image is a single-header library: this is the one translation unit that compiles its code.
// Only the two decoders ImageFolder admits; its own warnings are not ours to fix.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image.h>
#pragma GCC diagnostic pop

namespace fs = std::filesystem;

namespace qnn::data {

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// The image files under `dir`, at any depth, sorted as torchvision's sorted(os.walk(dir)) then
// sorted(files): by containing folder, then by name. Links to folders are followed, but each
// folder (by device and inode) is listed once: a link back to the folder itself or to one above it
// (a loop, which os.walk(followlinks=True) and a plain recursive walk follow until the path is too
// long) adds nothing, and neither does a second link to a folder already listed. Folders are
// walked depth first in name order, so which path lists a folder reached twice does not depend on
// the order the file system returns entries in.
std::vector<std::string> image_files(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> found;  // (folder, file name)
  std::set<std::pair<dev_t, ino_t>> listed;
  auto first_visit = [&listed](const fs::path& folder) {
    struct stat st {};
    return ::stat(folder.c_str(), &st) == 0 && listed.emplace(st.st_dev, st.st_ino).second;
  };
  std::vector<fs::path> pending;  // a stack: the next folder to list is at the back
  if (first_visit(dir))
    pending.push_back(dir);
  while (!pending.empty()) {
    const fs::path folder = pending.back();
    pending.pop_back();
    // directory_entry keeps the type readdir reported: no stat per file, except for links.
    std::vector<fs::directory_entry> entries;
    std::error_code ec;
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      entries.push_back(*it);
    QNN_CHECK(!ec, "ImageFolder", folder.string() << ": cannot list (" << ec.message() << ")");
    std::sort(entries.begin(), entries.end());
    std::vector<fs::path> sub;
    for (const fs::directory_entry& entry : entries) {
      std::error_code e;  // an entry that cannot be examined (a dangling link) is neither
      if (entry.is_directory(e)) {
        if (first_visit(entry.path()))
          sub.push_back(entry.path());
      } else if (is_image_file(entry.path()) && entry.is_regular_file(e)) {
        found.emplace_back(folder.string(), entry.path().filename().string());
      }
    }
    pending.insert(pending.end(), sub.rbegin(), sub.rend());  // the first name is listed next
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (const auto& [folder, name] : found)
    paths.push_back((fs::path(folder) / name).string());
  return paths;
}

}  // namespace

Tensor decode_image(const std::string& path) {
  check_jpeg_tables_in_file(path);  // a Huffman table stb_image 2.27 would overflow (jpeg_check.h)
  const char* op = "decode_image";
  std::FILE* file = std::fopen(path.c_str(), "rb");
  QNN_CHECK(
      file, op,
      path << ": cannot decode (cannot open: " << std::strerror(errno) << "; expected a readable JPEG or PNG file)");
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(file, &std::fclose);
  auto reason = [] { return stbi_failure_reason() ? stbi_failure_reason() : "unknown reason"; };
  // The header first (PNG: IHDR; JPEG: the markers up to SOF): the size is checked before a pixel
  // is decoded or a buffer allocated for them. stbi_info_from_file puts the file position back.
  int w = 0, h = 0, channels_in_file = 0;
  QNN_CHECK(stbi_info_from_file(file, &w, &h, &channels_in_file), op,
            path << ": cannot decode (" << reason() << "; expected a readable JPEG or PNG file)");
  QNN_CHECK(within_pixel_limit(h, w), op,
            path << ": " << w << "x" << h << " (width x height) is " << pixel_count_text(h, w)
                 << " pixels, more than the limit of " << max_image_pixels()
                 << " (set_max_image_pixels; expected an image of at most that many pixels)");
  // Asking for 3 channels makes stb_image replicate gray and drop alpha.
  stbi_uc* pixels = stbi_load_from_file(file, &w, &h, &channels_in_file, 3);
  QNN_CHECK(pixels, op, path << ": cannot decode (" << reason() << "; expected a readable JPEG or PNG file)");
  Tensor hwc = Tensor::empty({h, w, 3}, DType::UInt8);
  std::memcpy(hwc.data<uint8_t>(), pixels, static_cast<size_t>(h) * static_cast<size_t>(w) * 3);
  stbi_image_free(pixels);
  return make_view(hwc, {3, h, w}, {1, 3 * static_cast<int64_t>(w), 3}, hwc.offset());
}

std::vector<std::string> read_class_list(const std::string& path) {
  std::ifstream in(path);
  QNN_CHECK(in.good(), "read_class_list", path << ": cannot open (expected a class list file)");
  std::vector<std::string> classes;
  std::map<std::string, int64_t> seen;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    std::string name;
    if (line.find('\t') != std::string::npos) {  // index<TAB>wnid<TAB>names
      std::stringstream fields(line);
      std::string index, wnid;
      std::getline(fields, index, '\t');
      std::getline(fields, wnid, '\t');
      if (classes.empty() && index == "index")  // the header
        continue;
      QNN_CHECK(index == std::to_string(classes.size()) && !wnid.empty(), "read_class_list",
                path << ":" << line_no << ": got '" << line << "' (expected index " << classes.size()
                     << ", a tab, then the class name)");
      name = wnid;
    } else {  // wnid names...
      std::stringstream fields(line);
      fields >> name;
    }
    QNN_CHECK(
        seen.emplace(name, line_no).second, "read_class_list",
        path << ":" << line_no << ": class '" << name << "' repeats line " << seen[name] << " (expected unique names)");
    classes.push_back(name);
  }
  QNN_CHECK(!classes.empty(), "read_class_list", path << ": no classes (expected one per line)");
  return classes;
}

ImageFolder::ImageFolder(const std::string& root, TransformPtr transform, std::vector<std::string> classes)
    : root_(root), transform_(std::move(transform)), classes_(std::move(classes)) {
  std::error_code ec;
  QNN_CHECK(fs::is_directory(root, ec), "ImageFolder",
            root << ": no such folder (expected a folder with one sub-folder per class)");
  std::vector<std::string> folders;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_directory(ec))  // follows symbolic links, as os.scandir's is_dir()
      folders.push_back(it->path().filename().string());
  QNN_CHECK(!ec, "ImageFolder", root << ": cannot list (" << ec.message() << ")");
  std::sort(folders.begin(), folders.end());
  QNN_CHECK(!folders.empty(), "ImageFolder", root << ": no class sub-folders (expected ROOT/<class>/<image files>)");

  const bool fixed = !classes_.empty();
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < classes_.size(); ++i)
    index.emplace(classes_[i], static_cast<int64_t>(i));
  if (!fixed)
    for (size_t i = 0; i < folders.size(); ++i) {
      classes_.push_back(folders[i]);
      index.emplace(folders[i], static_cast<int64_t>(i));
    }

  for (const std::string& folder : folders) {
    const auto it = index.find(folder);
    QNN_CHECK(it != index.end(), "ImageFolder",
              (fs::path(root) / folder).string() << ": '" << folder << "' is not one of the " << classes_.size()
                                                 << " classes of the class list (expected only listed classes)");
    const std::vector<std::string> files = image_files(fs::path(root) / folder);
    QNN_CHECK(fixed || !files.empty(), "ImageFolder",
              (fs::path(root) / folder).string() << ": no image files (expected .jpg, .jpeg or .png in each class)");
    for (const std::string& f : files) {
      paths_.push_back(f);
      labels_.push_back(it->second);
    }
  }
  QNN_CHECK(!paths_.empty(), "ImageFolder", root << ": no image files (expected .jpg, .jpeg or .png)");
}

const std::string& ImageFolder::path(int64_t i) const {
  QNN_CHECK(i >= 0 && i < size(), "ImageFolder", "got index " << i << " (expected 0 <= index < " << size() << ")");
  return paths_[static_cast<size_t>(i)];
}

int64_t ImageFolder::label(int64_t i) const {
  QNN_CHECK(i >= 0 && i < size(), "ImageFolder", "got index " << i << " (expected 0 <= index < " << size() << ")");
  return labels_[static_cast<size_t>(i)];
}

Example ImageFolder::get(int64_t i, Generator& gen) const {
  const Tensor raw = raw_image(i);
  Tensor image;
  try {
    image = transform_ ? (*transform_)(raw, gen) : ToTensor()(raw, gen);
  } catch (const Error& e) {  // a transform does not know the file: name it
    throw Error(path(i) + ": " + e.what());
  }
  return {std::move(image), label(i)};
}

}  // namespace qnn::data
