// The request a client sends to `--listen --serve DIR` (core/serve_path.cpp), taken as
// ServiceStream::answer_request takes it: refused past max_request_size, else parsed
// ("GET /PATH") and opened below a served directory. Whatever the request, a file is opened only
// if it is a regular file whose real path lies inside that directory, and PATH had no ".." and
// no leading '/'.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/serve_path.hpp"
#include "fuzz_check.hpp"

using quicc::fuzz::require;
namespace fs = std::filesystem;

namespace {

// A served directory with the traps the contract is about: links inside and out, a link to a
// parent, a file outside whose name starts with the directory's (a prefix check without a '/'
// would take it), a directory and a link loop. Made once, removed at exit.
struct ServedTree {
  std::string root;       // as --serve names it
  std::string real_root;  // realpath of root: what an opened file's path must start with
  std::string outside;

  ServedTree() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/quicc-fuzz-serve-XXXXXX";
    require(::mkdtemp(pattern.data()) != nullptr, "mkdtemp for the served directory");
    root = pattern;
    real_root = fs::canonical(root).string();
    outside = root + "-outside";
    std::ofstream(outside) << "secret";
    fs::create_directories(root + "/sub/deeper");
    std::ofstream(root + "/index.html") << "index";
    std::ofstream(root + "/sub/f") << "f";
    std::ofstream(root + "/sub/deeper/g") << "g";
    fs::create_symlink("sub/f", root + "/inside");
    fs::create_symlink(outside, root + "/out");
    fs::create_symlink("..", root + "/up");
    fs::create_symlink("/", root + "/top");
    fs::create_symlink("loop", root + "/loop");
  }
  ~ServedTree() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
    fs::remove(outside, ignored);
  }
};

const ServedTree& served() {
  static ServedTree tree;
  return tree;
}

bool has_dot_dot_component(std::string_view path) {
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    if (path.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

// Where the descriptor really points, as the kernel tells it.
std::string path_of(int fd) {
  char buf[4096];
  ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  served();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view received = quicc::fuzz::text_of(data, size);
  (void)quicc::request_complete(received, false);
  if (received.size() > quicc::max_request_size) return 0;  // refused before parsing

  std::string error;
  auto path = quicc::parse_get_request(received, error);
  if (!path) {
    require(!error.empty(), "a refused request says why");
    return 0;
  }
  require(received.starts_with("GET /") && received.substr(5).starts_with(*path),
          "PATH is what follows \"GET /\"");
  require(path->find_first_of(std::string_view(" \n\0", 3)) == std::string::npos,
          "PATH holds no space, newline or NUL");

  quicc::UniqueFd fd = quicc::open_served_file(served().root, *path, error);
  if (fd.get() < 0) {
    require(!error.empty(), "a refused path says why");
    return 0;
  }
  require(!path->empty() && path->front() != '/', "an opened PATH is relative");
  require(!has_dot_dot_component(*path), "an opened PATH has no '..' component");
  struct stat st{};
  require(::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode), "only regular files are opened");
  require(path_of(fd.get()).starts_with(served().real_root + "/"),
          "an opened file lies inside the served directory");
  return 0;
}
