#!/bin/sh
# SPDX-License-Identifier: MIT
# Write a man page (troff, man macros) for PROGRAM from its own --help,
# which is laid out as a manual: headings in column 0, subheadings at 2,
# paragraphs and option or status tags at 4, their text and code examples
# at 8. help2man expects GNU-style help and would put all of it under
# DESCRIPTION, so this small translation keeps the sections.
set -eu
if [ $# -ne 2 ] || [ "$1" = --help ]; then
    echo "usage: tools/mkman.sh PROGRAM SECTION >PROGRAM.SECTION" >&2
    [ "${1:-}" = --help ] && exit 0
    exit 2
fi
prog=$1
section=$2
name=$(basename "$prog")
version=$("$prog" --version)
"$prog" --help | awk -v name="$name" -v section="$section" -v version="$version" '
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.\047]/) s = "\\&" s
    return s
}
function indent(s) { match(s, /^ */); return RLENGTH }
function endcode() { if (code) { print ".fi"; print ".RE"; code = 0 } }
# An option tag: flags in bold, their arguments in italics.
function tag(s,    n, i, w, out, parts) {
    n = split(s, parts, / /)
    out = ""
    for (i = 1; i <= n; i++) {
        w = esc(parts[i])
        if (parts[i] ~ /^-/) w = "\\fB" w "\\fR"
        else if (parts[i] != "|") w = "\\fI" w "\\fR"
        out = out (i > 1 ? " " : "") w
    }
    return out
}
BEGIN {
    printf ".TH %s %s \"\" \"%s\" \"User Commands\"\n", toupper(esc(name)), section, esc(version)
}
{ line[NR] = $0 }
END {
    for (i = 1; i <= NR; i++) {
        prev = i > 1 ? line[i - 1] : ""
        next_ = i < NR ? line[i + 1] : ""
        emit(line[i], prev, next_)
    }
    endcode()
}
# A line at 4 starting with "-" is an option tag only where a block starts
# (after a blank line or heading) and text at 8 follows; wrapped prose may
# start with a flag too.
function emit(l, prev, next_,    n, text) {
    if (l == "") { endcode(); brk = 1; tp = 0; return }
    n = indent(l)
    text = substr(l, n + 1)
    if (n == 0) {
        endcode(); sec = l; tp = 0; brk = 0
        print ".SH " esc(sec)
        if (sec == "SYNOPSIS") { print ".nf"; code = 1; print ".RS 0" }
        return
    }
    if (sec == "SYNOPSIS") { print esc(substr(l, 5)); return }
    if (n == 2) { endcode(); print ".SS " esc(text); tp = 0; brk = 0; return }
    if (n < 8) {
    endcode()
    if (text ~ /^-/ && (prev == "" || indent(prev) < 4) && indent(next_) >= 8) {
        print ".TP"; print tag(text); tp = 1
    } else if (sec == "EXIT STATUS" && match(text, /^[0-9]+ +/)) {
        print ".TP"; print "\\fB" substr(text, 1, RLENGTH) "\\fR" 
        print esc(substr(text, RLENGTH + 1)); tp = 1
    } else {
        # Text at 4 after a status row ends the list.
        if (brk || (tp && sec == "EXIT STATUS")) print ".PP"
        print esc(text); tp = 0
    }
    brk = 0
    return
    }
    # In a status row, "- " at 8 starts an item on a line of its own.
    if (tp && n == 8 && text ~ /^- /) { print ".br"; print esc(text); return }
    if (tp) { print esc(text); return }
    if (!code) { print ".PP"; print ".RS 4"; print ".nf"; code = 1 }
    print esc(substr(l, 9))
    brk = 0
}
'
