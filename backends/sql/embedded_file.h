// EmbeddedFile: a file compiled into the binary (by the `embedded_files`
// rule in embed.bzl), so that a store's migrations need no file at run time
// and cannot go missing or out of step with the code.
#ifndef DURABLE_BACKENDS_SQL_EMBEDDED_FILE_H_
#define DURABLE_BACKENDS_SQL_EMBEDDED_FILE_H_

#include "absl/strings/string_view.h"

namespace durable::backends::sql {

struct EmbeddedFile {
  // The file's base name, e.g. "0001_initial.sql".
  absl::string_view name;
  absl::string_view contents;
};

}  // namespace durable::backends::sql

#endif  // DURABLE_BACKENDS_SQL_EMBEDDED_FILE_H_
