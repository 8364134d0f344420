// Compiles protobuf's map_field.h as Debian's libprotobuf was compiled.
//
// map_field.h gives MapFieldBase two extra members when __SANITIZE_THREAD__
// is defined (a TSan aid that needs the library built with it). Debian's
// libprotobuf.so is built without TSan, so code compiled with
// -fsanitize=thread would disagree with the library about the layout of every
// map field and crash in MapFieldBase::SyncRepeatedFieldWithMap. Under
// --config=tsan this directory comes first on the include path
// (//third_party/tsan_protobuf), and the real header is read with
// __SANITIZE_THREAD__ undefined, as when the library was built. Nothing else
// in protobuf's headers depends on it (PROTOBUF_TSAN, which port_def.inc
// derives from it, is used nowhere).

// The standard headers map_field.h needs come first, so that libstdc++'s own
// configuration (_GLIBCXX_TSAN) still sees TSan.
#include <atomic>
#include <functional>

#pragma push_macro("__SANITIZE_THREAD__")
#undef __SANITIZE_THREAD__
#include_next <google/protobuf/map_field.h>
#pragma pop_macro("__SANITIZE_THREAD__")
