#pragma once
// The checks every reader and writer of qnn's files makes on the paths it is given, written once:
// - a reader opens only regular files: a FIFO would block it forever, a device could be read
//   without end, a folder is an unclear "Is a directory" deep inside a library;
// - an atomic writer (write <path>.tmp.<pid>, then rename it over <path>) writes only over a
//   regular file or a new path: the rename would otherwise replace a device, a FIFO or a symbolic
//   link to one with a regular file (as root, /dev/null), and cannot replace a folder anyway;
// - the temporary file of a killed write (<path>.tmp.<pid> of a process that no longer runs) is
//   removed by the next write of the same path, so crashes do not pile up orphans.
// The checks follow symbolic links: a link to a regular file is a regular file (the writer's
// rename then replaces the link itself, not the file it points to).
#include <string>

namespace qnn {

// Throws qnn::Error "<op>: <path>: ..." naming what the path is when it is not an existing regular
// file ("does not exist", "is a FIFO", "is a directory", ...). A reader still checks what it opened
// (fstat) as the file can change in between.
void check_input_file(const std::string& path, const char* op);

// Throws qnn::Error "<op>: <path>: ..." when the path exists and is not a regular file.
void check_output_file(const std::string& path, const char* op);

// The temporary file an atomic write of `path` by this process uses: "<path>.tmp.<pid>".
std::string temp_file_for(const std::string& path);

// Removes every regular file "<path>.tmp.<pid>" in path's folder whose pid is not a running
// process (the leftovers of a killed write of `path`) and returns how many it removed. Best
// effort: a file it cannot remove stays, without an error. A process of another PID namespace
// writing the same path on a shared file system would look dead: qnn does not share outputs so.
int remove_stale_temp_files(const std::string& path);

// "a FIFO", "a directory", "a character device", ... for messages.
std::string describe_file_type(const std::string& path);

}  // namespace qnn
