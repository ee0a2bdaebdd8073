#!/usr/bin/env bash
# fuzz/gen-kuhn-corpus.sh - write Markus Kuhn's UTF-8 decoder stress test
# (UTF-8-test.txt) as seed files, one case a file, named after its
# section: fuzz/corpus/<target>/kuhn-<section>-<what>.
#
#   framing  "\xff\x00" + case + LF: max_line 256, fed one byte at a time
#   session  "\x00\x00" + case + LF: two clients, the first sends it all
#   command  the case as a line, and "/nick " + case for the cases that
#            hold characters a nickname might take (1, 2 and 5.3)
#
# The cases are printf escapes, never bytes in a shell variable (2.1.1
# is a NUL).  Usage: fuzz/gen-kuhn-corpus.sh [CORPUS_DIR]
set -euo pipefail

out=${1:-$(cd "$(dirname "$0")" && pwd)/corpus}
mkdir -p "$out/framing" "$out/session" "$out/command"
rm -f "$out"/framing/kuhn-* "$out"/session/kuhn-* "$out"/command/kuhn-*

# case NAME ESCAPES: one test case in every corpus.
case_() {
	local name=$1 esc=$2
	# shellcheck disable=SC2059
	{
		printf '\xff\x00'"$esc"'\n' >"$out/framing/kuhn-$name"
		printf '\x00\x00'"$esc"'\n' >"$out/session/kuhn-$name"
		printf "$esc" >"$out/command/kuhn-$name"
		case $name in
		1-*|2.*|5.3.*) printf '/nick '"$esc" >"$out/command/kuhn-$name-nick" ;;
		esac
	}
}

# The escapes for the bytes FIRST..LAST (decimal), each followed by SEP.
range() {
	local b s=""
	for ((b = $1; b <= $2; b++)); do
		s+=$(printf '\\x%02x' "$b")$3
	done
	printf '%s' "$s"
}

# 1  Some correct UTF-8 text
case_ 1-kosme '\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5'

# 2.1  First possible sequence of a certain length
case_ 2.1.1-first-1-byte-nul '\x00'
case_ 2.1.2-first-2-bytes '\xc2\x80'
case_ 2.1.3-first-3-bytes '\xe0\xa0\x80'
case_ 2.1.4-first-4-bytes '\xf0\x90\x80\x80'
case_ 2.1.5-first-5-bytes '\xf8\x88\x80\x80\x80'
case_ 2.1.6-first-6-bytes '\xfc\x84\x80\x80\x80\x80'
# 2.2  Last possible sequence of a certain length
case_ 2.2.1-last-1-byte '\x7f'
case_ 2.2.2-last-2-bytes '\xdf\xbf'
case_ 2.2.3-last-3-bytes '\xef\xbf\xbf'
case_ 2.2.4-last-4-bytes '\xf7\xbf\xbf\xbf'
case_ 2.2.5-last-5-bytes '\xfb\xbf\xbf\xbf\xbf'
case_ 2.2.6-last-6-bytes '\xfd\xbf\xbf\xbf\xbf\xbf'
# 2.3  Other boundary conditions
case_ 2.3.1-U+D7FF '\xed\x9f\xbf'
case_ 2.3.2-U+E000 '\xee\x80\x80'
case_ 2.3.3-U+FFFD '\xef\xbf\xbd'
case_ 2.3.4-U+10FFFF '\xf4\x8f\xbf\xbf'
case_ 2.3.5-U+110000 '\xf4\x90\x80\x80'

# 3.1  Unexpected continuation bytes
case_ 3.1.1-unexpected-continuation-first '\x80'
case_ 3.1.2-unexpected-continuation-last '\xbf'
case_ 3.1.3-unexpected-continuation-2 '\x80\xbf'
case_ 3.1.4-unexpected-continuation-3 '\x80\xbf\x80'
case_ 3.1.5-unexpected-continuation-4 '\x80\xbf\x80\xbf'
case_ 3.1.6-unexpected-continuation-5 '\x80\xbf\x80\xbf\x80'
case_ 3.1.7-unexpected-continuation-6 '\x80\xbf\x80\xbf\x80\xbf'
case_ 3.1.8-unexpected-continuation-7 '\x80\xbf\x80\xbf\x80\xbf\x80'
case_ 3.1.9-all-64-continuation-bytes "$(range 128 191 '')"
# 3.2  Lonely start characters, each followed by a space
case_ 3.2.1-lonely-2-byte-starts "$(range 192 223 ' ')"
case_ 3.2.2-lonely-3-byte-starts "$(range 224 239 ' ')"
case_ 3.2.3-lonely-4-byte-starts "$(range 240 247 ' ')"
case_ 3.2.4-lonely-5-byte-starts "$(range 248 251 ' ')"
case_ 3.2.5-lonely-6-byte-starts "$(range 252 253 ' ')"
# 3.3  Sequences with the last continuation byte missing
missing=(
	3.3.1-2-bytes-U+0000 '\xc0'
	3.3.2-3-bytes-U+0000 '\xe0\x80'
	3.3.3-4-bytes-U+0000 '\xf0\x80\x80'
	3.3.4-5-bytes-U+0000 '\xf8\x80\x80\x80'
	3.3.5-6-bytes-U+0000 '\xfc\x80\x80\x80\x80'
	3.3.6-2-bytes-U+07FF '\xdf'
	3.3.7-3-bytes-U+FFFF '\xef\xbf'
	3.3.8-4-bytes-U+1FFFFF '\xf7\xbf\xbf'
	3.3.9-5-bytes-U+3FFFFFF '\xfb\xbf\xbf\xbf'
	3.3.10-6-bytes-U+7FFFFFFF '\xfd\xbf\xbf\xbf\xbf'
)
all=""
for ((i = 0; i < ${#missing[@]}; i += 2)); do
	case_ "${missing[i]%%-*}-last-byte-missing-${missing[i]#*-}" \
	    "${missing[i + 1]}"
	all+=${missing[i + 1]}
done
# 3.4  Concatenation of the incomplete sequences of 3.3
case_ 3.4-concatenated-incomplete "$all"
# 3.5  Impossible bytes
case_ 3.5.1-impossible-fe '\xfe'
case_ 3.5.2-impossible-ff '\xff'
case_ 3.5.3-impossible-fe-fe-ff-ff '\xfe\xfe\xff\xff'

# 4.1  Overlong ASCII character: "/" (U+002F)
case_ 4.1.1-overlong-slash-2 '\xc0\xaf'
case_ 4.1.2-overlong-slash-3 '\xe0\x80\xaf'
case_ 4.1.3-overlong-slash-4 '\xf0\x80\x80\xaf'
case_ 4.1.4-overlong-slash-5 '\xf8\x80\x80\x80\xaf'
case_ 4.1.5-overlong-slash-6 '\xfc\x80\x80\x80\x80\xaf'
# 4.2  Maximum overlong sequences
case_ 4.2.1-max-overlong-U+007F '\xc1\xbf'
case_ 4.2.2-max-overlong-U+07FF '\xe0\x9f\xbf'
case_ 4.2.3-max-overlong-U+FFFF '\xf0\x8f\xbf\xbf'
case_ 4.2.4-max-overlong-U+1FFFFF '\xf8\x87\xbf\xbf\xbf'
case_ 4.2.5-max-overlong-U+3FFFFFF '\xfc\x83\xbf\xbf\xbf\xbf'
# 4.3  Overlong NUL
case_ 4.3.1-overlong-nul-2 '\xc0\x80'
case_ 4.3.2-overlong-nul-3 '\xe0\x80\x80'
case_ 4.3.3-overlong-nul-4 '\xf0\x80\x80\x80'
case_ 4.3.4-overlong-nul-5 '\xf8\x80\x80\x80\x80'
case_ 4.3.5-overlong-nul-6 '\xfc\x80\x80\x80\x80\x80'

# 5.1  Single UTF-16 surrogates
case_ 5.1.1-surrogate-U+D800 '\xed\xa0\x80'
case_ 5.1.2-surrogate-U+DB7F '\xed\xad\xbf'
case_ 5.1.3-surrogate-U+DB80 '\xed\xae\x80'
case_ 5.1.4-surrogate-U+DBFF '\xed\xaf\xbf'
case_ 5.1.5-surrogate-U+DC00 '\xed\xb0\x80'
case_ 5.1.6-surrogate-U+DF80 '\xed\xbe\x80'
case_ 5.1.7-surrogate-U+DFFF '\xed\xbf\xbf'
# 5.2  Paired UTF-16 surrogates
case_ 5.2.1-surrogates-U+D800-U+DC00 '\xed\xa0\x80\xed\xb0\x80'
case_ 5.2.2-surrogates-U+D800-U+DFFF '\xed\xa0\x80\xed\xbf\xbf'
case_ 5.2.3-surrogates-U+DB7F-U+DC00 '\xed\xad\xbf\xed\xb0\x80'
case_ 5.2.4-surrogates-U+DB7F-U+DFFF '\xed\xad\xbf\xed\xbf\xbf'
case_ 5.2.5-surrogates-U+DB80-U+DC00 '\xed\xae\x80\xed\xb0\x80'
case_ 5.2.6-surrogates-U+DB80-U+DFFF '\xed\xae\x80\xed\xbf\xbf'
case_ 5.2.7-surrogates-U+DBFF-U+DC00 '\xed\xaf\xbf\xed\xb0\x80'
case_ 5.2.8-surrogates-U+DBFF-U+DFFF '\xed\xaf\xbf\xed\xbf\xbf'
# 5.3  Noncharacters: valid UTF-8 (RFC 3629), so they must pass.
case_ 5.3.1-nonchar-U+FFFE '\xef\xbf\xbe'
case_ 5.3.2-nonchar-U+FFFF '\xef\xbf\xbf'
case_ 5.3.3-nonchar-U+FDD0-U+FDEF "$(range 144 175 '' | sed 's/\\x/\\xef\\xb7\\x/g')"
planes=""
for ((n = 1; n <= 16; n++)); do
	lead=$((0xf0 | (n >> 2)))
	second=$((0x80 | ((n & 3) << 4) | 0x0f))
	planes+=$(printf '\\x%02x\\x%02x\\xbf\\xbe\\x%02x\\x%02x\\xbf\\xbf' \
	    "$lead" "$second" "$lead" "$second")
done
case_ 5.3.4-nonchar-U+nFFFE-U+nFFFF "$planes"
