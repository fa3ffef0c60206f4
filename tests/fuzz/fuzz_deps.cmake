# Write the libraries libtdxsim links with (read from the nested build's link
# line of the shared library) to a clang response file, so the fuzz targets
# follow the library's dependencies as they change.
#   cmake -DLINK_TXT=<fuzzlib>/CMakeFiles/tdxsim.dir/link.txt -DOUT=<rsp> -P fuzz_deps.cmake
file(READ ${LINK_TXT} line)
string(STRIP "${line}" line)
separate_arguments(tokens UNIX_COMMAND "${line}")
set(deps "")
foreach(t ${tokens})
  if(t MATCHES "^-l" OR t MATCHES "^-pthread$" OR (t MATCHES "\\.(so(\\.[0-9]+)*|a)$" AND NOT t MATCHES "\\.o$"))
    if(NOT t MATCHES "^libtdxsim")
      string(APPEND deps "${t}\n")
    endif()
  endif()
endforeach()
if(deps STREQUAL "")
  message(FATAL_ERROR "fuzz_deps.cmake: no libraries found in ${LINK_TXT}")
endif()
file(WRITE ${OUT}.tmp "${deps}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
