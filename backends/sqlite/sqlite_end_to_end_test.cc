// The end-to-end conformance scenarios on SQLite: an on-disk file and an
// in-memory database, each with the executor cache on and off.
#include "backends/testing/end_to_end_scenarios.h"

INSTANTIATE_END_TO_END_SCENARIOS(SqliteFile, [] {
  return "sqlite://" + durable::testing::TempPath("end_to_end.db");
});

INSTANTIATE_END_TO_END_SCENARIOS(SqliteMemory,
                                 [] { return std::string("sqlite::memory:"); });
