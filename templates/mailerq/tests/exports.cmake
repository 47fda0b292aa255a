# Fails unless the module's dynamic symbol table defines exactly the entry points
# given after the script: cmake -DNM=nm -DMODULE=plugin.so -P exports.cmake mq_version ...
if(NOT NM)
  message(FATAL_ERROR "CMake found no nm (CMAKE_NM) to list the module's dynamic symbols")
endif()

# The arguments after "-P <this script>".
set(expected "")
set(script_at -1)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(script_at GREATER_EQUAL 0 AND i GREATER script_at)
    list(APPEND expected "${CMAKE_ARGV${i}}")
  elseif(script_at LESS 0 AND CMAKE_ARGV${i} STREQUAL "-P")
    math(EXPR script_at "${i} + 1")
  endif()
endforeach()

execute_process(COMMAND "${NM}" -D --defined-only "${MODULE}"
  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "${NM} -D --defined-only ${MODULE} failed: ${errors}")
endif()

# Lines are "<address> <type> <name>"; the linker's own markers are no exports.
string(REGEX MATCHALL "[^\n]+" lines "${listing}")
set(exported "")
foreach(line IN LISTS lines)
  if(line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ @]+)")
    set(name "${CMAKE_MATCH_1}")
    if(NOT name MATCHES "^(_init|_fini|_edata|_end|__bss_start)$")
      list(APPEND exported "${name}")
    endif()
  endif()
endforeach()

list(SORT exported)
list(SORT expected)
if(NOT exported STREQUAL expected)
  set(extra ${exported})
  set(missing ${expected})
  foreach(name IN LISTS expected)
    list(REMOVE_ITEM extra "${name}")
  endforeach()
  foreach(name IN LISTS exported)
    list(REMOVE_ITEM missing "${name}")
  endforeach()
  message(FATAL_ERROR "the module must export exactly MAILERQ_ENTRY_POINTS (CMakeLists.txt)\n"
    "  exported, not listed: ${extra}\n  listed, not exported: ${missing}\n"
    "A new callback goes into that list; anything else stays hidden (no MQ_EXPORT).")
endif()
message(STATUS "exports exactly: ${exported}")
