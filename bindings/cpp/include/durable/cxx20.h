// The C++ facade is written in C++20 (coroutines, designated initializers,
// concepts). Every public header includes this one first, so a translation
// unit compiled as an older C++ stops at one clear error instead of
// thousands from the headers that follow.
#ifndef DURABLE_CXX20_H_
#define DURABLE_CXX20_H_

#if !defined(__cplusplus) || __cplusplus < 202002L
#error "durable's C++ facade needs C++20: compile with -std=c++20 (or newer)"
// #error alone lets the compiler go on into the headers below; a missing
// include is fatal, so compilation stops here.
#include "durable/compile_with_std_cxx20_or_newer"
#endif

#endif  // DURABLE_CXX20_H_
