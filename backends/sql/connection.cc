#include "backends/sql/connection.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace durable::backends::sql {

Connection::~Connection() = default;

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    absl::StatusOr<RenderedStatement> rendered = dialect_.Render(sql);
    if (!rendered.ok()) return rendered.status();
    absl::StatusOr<std::unique_ptr<PreparedStatement>> compiled =
        Compile(*rendered);
    if (!compiled.ok()) return compiled.status();
    it = statements_.emplace(std::string(sql), *std::move(compiled)).first;
  }
  if (it->second->in_use_) {
    // Reusing it would reset the execution in progress under its reader.
    return absl::FailedPreconditionError(absl::StrCat(
        "statement \"", sql, "\" is already executing on this connection"));
  }
  return Statement(it->second.get());
}

absl::Status Connection::Savepoint(absl::string_view name) {
  return Exec(absl::StrCat("SAVEPOINT ", name));
}

absl::Status Connection::ReleaseSavepoint(absl::string_view name) {
  return Exec(absl::StrCat("RELEASE SAVEPOINT ", name));
}

absl::Status Connection::RollbackToSavepoint(absl::string_view name) {
  return Exec(absl::StrCat("ROLLBACK TO SAVEPOINT ", name));
}

}  // namespace durable::backends::sql
