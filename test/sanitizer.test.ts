// Sanitizer reports as ASan, LSan and UBSan (GCC 12's libsanitizer) print them, summed
// up where the plugin's mistake is: the host's and the runtime's own frames left out.
import { describe, expect, it } from 'vitest';
import { sanitizerSummary } from '../lib/core/sanitizer.js';

const host = /\/hosts\/mailerq\/host\.c:|mq-ref-host|libc_start|in _start /;

const overflow = `[50-x.so] INFO x: loaded
=================================================================
==16762==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x612000000153 at pc 0x7eff95ef0476 bp 0x7fffc4975380 sp 0x7fffc4975378
WRITE of size 1 at 0x612000000153 thread T0
    #0 0x7eff95ef0475 in mq_smtp_in_data /src/x/src/plugin.c:47
    #1 0x55823de123ff in invoke /pkg/hosts/mailerq/host.c:1246
    #2 0x55823de0d560 in _start (/cache/mq-ref-host+0x14560)

0x612000000153 is located 0 bytes to the right of 275-byte region [0x612000000040,0x612000000153)
allocated by thread T0 here:
    #0 0x7eff958b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7eff95ef033d in copy_of /src/x/src/plugin.c:44
    #2 0x7eff95ef033d in mq_smtp_in_data /src/x/src/plugin.c:50

SUMMARY: AddressSanitizer: heap-buffer-overflow /src/x/src/plugin.c:47 in mq_smtp_in_data
Shadow bytes around the buggy address:
  0x0c247fff7fd0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
==16762==ABORTING`;

const segv = `AddressSanitizer:DEADLYSIGNAL
=================================================================
==3254==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000050 (pc 0x7f28d80d0d66 bp 0x7ffe8deeb190 sp 0x7ffe8deea8d8 T0)
==3254==The signal is caused by a READ memory access.
==3254==Hint: address points to the zero page.
    #0 0x7f28d80d0d66 in __sanitizer::internal_strlen(char const*) ../../../../src/libsanitizer/sanitizer_common/sanitizer_libc.cpp:167
    #1 0x7f507f2a8eec in __pthread_kill_implementation nptl/pthread_kill.c:44
    #2 0x7f507f259fb1 in __GI_raise ../sysdeps/posix/raise.c:26
    #3 0x55b4f560f4ca in MQ_log /pkg/hosts/mailerq/host.c:570
    #4 0x7f28d7e8d664 in std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::c_str() const /src/y/src/plugin.cpp:41
    #5 0x7f28d7e8d664 in mq_smtp_in_mailfrom /src/y/src/plugin.cpp:41

AddressSanitizer can not provide additional info.
SUMMARY: AddressSanitizer: SEGV ../../../../src/libsanitizer/sanitizer_common/sanitizer_libc.cpp:167 in __sanitizer::internal_strlen(char const*)
==3254==ABORTING`;

const leaks = `
=================================================================
==16811==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 32 byte(s) in 1 object(s) allocated from:
    #0 0x7fb1800b83b7 in __interceptor_calloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:77
    #1 0x7fb1806be2b0 in mq_smtp_in_connect /src/x/src/plugin.c:35
    #2 0x5634c32c9f74 in invoke /pkg/hosts/mailerq/host.c:1239

Direct leak of 24 byte(s) in 3 object(s) allocated from:
    #0 0x7f062e2b89cf in operator new(unsigned long) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:95
    #1 0x7f0601000139  (/tmp/mailerq-verify-x/50-x.so+0x1139)
    #2 0x7f0601000200 in mq_smtp_in_rcptto (/tmp/mailerq-verify-x/50-x.so+0x1200)

Indirect leak of 8 byte(s) in 1 object(s) allocated from:
    #0 0x7fb1800b83b7 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7fb1806be2c0 in mq_smtp_in_connect /src/x/src/plugin.c:36

SUMMARY: AddressSanitizer: 64 byte(s) leaked in 5 allocation(s).`;

const ub = `/src/x/src/plugin.c:44:19: runtime error: shift exponent 40 is too large for 32-bit type 'int'
    #0 0x7f33d954e492 in mq_smtp_in_connect /src/x/src/plugin.c:44
    #1 0x55a415ae23ff in invoke /pkg/hosts/mailerq/host.c:1246
`;

describe('sanitizer reports, summed up', () => {
  it('an overflow: the access, where, and where the block was allocated', () => {
    expect(sanitizerSummary(overflow, host)).toBe('AddressSanitizer: heap-buffer-overflow, WRITE of size 1 in mq_smtp_in_data (plugin.c:47); allocated in copy_of (plugin.c:44)');
  });

  it('a SEGV: the plugin frames after the runtime\'s, the C library\'s and the host\'s', () => {
    expect(sanitizerSummary(segv, host)).toBe('AddressSanitizer: SEGV in std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::c_str() const (plugin.cpp:41) from mq_smtp_in_mailfrom (plugin.cpp:41)');
  });

  it('leaks: one line per block, an object without symbols by module and offset', () => {
    expect(sanitizerSummary(leaks, host)!.split('\n')).toEqual([
      'LeakSanitizer: 32 bytes in 1 object never freed, allocated in mq_smtp_in_connect (plugin.c:35)',
      'LeakSanitizer: 24 bytes in 3 objects never freed, allocated in 50-x.so+0x1139 from mq_smtp_in_rcptto (50-x.so+0x1200)',
    ]);
  });

  it('undefined behaviour: what and where', () => {
    expect(sanitizerSummary(ub, host)).toBe("UndefinedBehaviorSanitizer: shift exponent 40 is too large for 32-bit type 'int' in mq_smtp_in_connect (plugin.c:44)");
  });

  it('nothing from a host without sanitizers, or a plugin\'s own log lines', () => {
    expect(sanitizerSummary('[50-x.so] INFO x: loaded\nmq-ref-host: bye\n', host)).toBeUndefined();
    expect(sanitizerSummary('', host)).toBeUndefined();
  });
});
