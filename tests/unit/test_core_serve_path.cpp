#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "core/serve_path.hpp"

using namespace quicc;

TEST_CASE("serve_path::parse_get_request") {
  std::string error;
  SUBCASE("plain, with CRLF, LF, a version, or nothing after the path") {
    CHECK(parse_get_request("GET /a/b.txt\r\n", error) == "a/b.txt");
    CHECK(parse_get_request("GET /a/b.txt\n", error) == "a/b.txt");
    CHECK(parse_get_request("GET /a/b.txt HTTP/1.0\r\n", error) == "a/b.txt");
    CHECK(parse_get_request("GET /a/b.txt", error) == "a/b.txt");
    CHECK(parse_get_request("GET /", error) == "");
  }
  SUBCASE("anything else is refused") {
    CHECK_FALSE(parse_get_request("PUT /a\r\n", error));
    CHECK_FALSE(parse_get_request("GET a\r\n", error));
    CHECK_FALSE(parse_get_request("", error));
    CHECK_FALSE(parse_get_request(std::string("GET /a\0b", 8), error));
  }
  SUBCASE("the request line ends at a newline or the FIN") {
    CHECK_FALSE(request_complete("GET /a", false));
    CHECK(request_complete("GET /a", true));
    CHECK(request_complete("GET /a\r\n", false));
  }
}

TEST_CASE("serve_path::open_served_file") {
  char dir_template[] = "/tmp/quicc-serve-XXXXXX";
  REQUIRE(mkdtemp(dir_template));
  std::string root = dir_template;
  std::string outside = root + "-outside";
  std::ofstream(outside) << "secret";
  REQUIRE(::mkdir((root + "/sub").c_str(), 0700) == 0);
  std::ofstream(root + "/sub/f") << "data";
  REQUIRE(::symlink("sub/f", (root + "/inside").c_str()) == 0);
  REQUIRE(::symlink(outside.c_str(), (root + "/out").c_str()) == 0);
  REQUIRE(::symlink("/tmp", (root + "/tmpdir").c_str()) == 0);
  // A FIFO: opened for reading the usual way, it waited for a writer, and the listener too.
  REQUIRE(::mkfifo((root + "/fifo").c_str(), 0600) == 0);

  std::string error;
  CHECK(open_served_file(root, "sub/f", error).get() >= 0);
  CHECK(open_served_file(root, "inside", error).get() >= 0);
  for (const char* refused : {"../" , "sub/../sub/f", "..", "/etc/passwd", "", "sub", "out",
                              "missing", "tmpdir/x", "fifo"}) {
    CAPTURE(refused);
    error.clear();
    CHECK(open_served_file(root, refused, error).get() < 0);
    CHECK_FALSE(error.empty());
  }
  std::string refusal;
  open_served_file(root, "out", refusal);
  CHECK(refusal.find("refused") == 0);

  std::system(("rm -rf '" + root + "' '" + outside + "'").c_str());
}
