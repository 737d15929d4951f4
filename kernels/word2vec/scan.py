"""Compiled help for reading a corpus: split UTF-8 bytes into ASCII tokens, line ends and the
rest, and give every distinct token an id in the order tokens first occur.

The tokens are tui_lab.tasks.corpus's: the text lowercased, then runs of word characters
joined by single inner apostrophes or hyphens (regular expression \\w+(?:['’-]\\w+)*). For
ASCII that rule is simple enough to run here, a byte at a time. Anything else (letters such as
é or Ω, the apostrophe ’, Unicode spaces, and str.lower's context rules) is left to Python:
split_runs marks every run of bytes between ASCII spaces and control characters that holds a
byte >= 0x80 as one "other" entry, which the caller lowercases and tokenises with the regular
expression and hands to intern_entries as text. Cutting at ASCII spaces and control characters
loses nothing: they are neither word characters nor cased or case-ignorable, so no token and
no lowercasing context (the final sigma) spans them.

Line ends: "\\n", "\\r\\n" and a lone "\\r", as Python's universal newlines.

Interning: an open-addressing hash table (FNV-1a over the lowercased bytes, linear probing,
grown at half full) whose entries point into one byte store holding each distinct token once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TOKEN = 0  # entry kinds of split_runs
LINE_END = 1
OTHER = 2

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0xD6E8FEB86659FD93)
_SHIFT32 = np.uint64(32)


@njit(cache=True, inline="always")
def _is_word(c):
    return (c >= 97 and c <= 122) or (c >= 65 and c <= 90) or (c >= 48 and c <= 57) or c == 95


@njit(cache=True, inline="always")
def _is_break(c):
    """ASCII space or control character: a run boundary (module docstring)."""
    return c <= 32 or c == 127


@njit(cache=True, nogil=True)
def split_runs(buf, kinds, starts, ends):
    """buf [n] uint8 -> the number of entries written to kinds, starts, ends [>= n + 1]:
    TOKEN [start, end) an ASCII token (not yet lowercased), LINE_END, or OTHER [start, end) a
    run holding non-ASCII bytes, for the caller to tokenise."""
    n = buf.shape[0]
    count = 0
    i = 0
    while i < n:
        c = buf[i]
        if c == 10 or c == 13:
            kinds[count] = LINE_END
            count += 1
            i += 2 if (c == 13 and i + 1 < n and buf[i + 1] == 10) else 1
            continue
        if _is_break(c):
            i += 1
            continue
        stop = i
        ascii_only = True
        while stop < n and not _is_break(buf[stop]):
            if buf[stop] >= 128:
                ascii_only = False
            stop += 1
        if not ascii_only:
            kinds[count] = OTHER
            starts[count] = i
            ends[count] = stop
            count += 1
            i = stop
            continue
        while i < stop:  # \w+(?:['-]\w+)* over the ASCII run
            if not _is_word(buf[i]):
                i += 1
                continue
            first = i
            while i < stop and _is_word(buf[i]):
                i += 1
            while (i + 1 < stop and (buf[i] == 39 or buf[i] == 45)
                   and _is_word(buf[i + 1])):  # fmt: skip
                i += 1
                while i < stop and _is_word(buf[i]):
                    i += 1
            kinds[count] = TOKEN
            starts[count] = first
            ends[count] = i
            count += 1
    return count


def new_table(capacity: int = 1 << 16):
    """An empty interning table: (slot_ids [cap] int32 (-1: empty), slot_hashes [cap] uint64,
    offsets [cap // 2 + 1] int64 (token w is store[offsets[w]:offsets[w + 1]]), store uint8,
    sizes [2] int64 = (distinct tokens, bytes stored)). cap: a power of two."""
    return (
        np.full(capacity, -1, np.int32),
        np.zeros(capacity, np.uint64),
        np.zeros(capacity // 2 + 1, np.int64),
        np.zeros(capacity * 8, np.uint8),
        np.zeros(2, np.int64),
    )


def grow_table(table, room: int):
    """The table with twice the slots (re-inserted) and a store with at least `room` bytes
    free."""
    slot_ids, slot_hashes, offsets, store, sizes = table
    capacity = 2 * slot_ids.shape[0]
    words, used = int(sizes[0]), int(sizes[1])
    grown = new_table(capacity)
    grown[2][: words + 1] = offsets[: words + 1]
    new_store = np.zeros(max(2 * store.shape[0], used + room), np.uint8)
    new_store[:used] = store[:used]
    _reinsert(slot_ids, slot_hashes, grown[0], grown[1])
    return grown[0], grown[1], grown[2], new_store, sizes


@njit(cache=True)
def _reinsert(slot_ids, slot_hashes, new_ids, new_hashes):
    mask = np.uint64(new_ids.shape[0] - 1)
    for s in range(slot_ids.shape[0]):
        if slot_ids[s] >= 0:
            t = np.int64(slot_hashes[s] & mask)
            while new_ids[t] >= 0:
                t = (t + 1) & (new_ids.shape[0] - 1)
            new_ids[t] = slot_ids[s]
            new_hashes[t] = slot_hashes[s]


@njit(cache=True, inline="always")
def _hash(src, lo, hi, lower):
    h = _FNV_OFFSET
    for k in range(lo, hi):
        c = src[k]
        if lower and c >= 65 and c <= 90:
            c += 32
        h = (h ^ np.uint64(c)) * _FNV_PRIME
    # FNV's low bits (the slot) mix poorly for short tokens: spread the high bits down.
    h ^= h >> _SHIFT32
    h *= _MIX
    return h ^ (h >> _SHIFT32)


@njit(cache=True, inline="always")
def _intern(src, lo, hi, lower, slot_ids, slot_hashes, offsets, store, sizes):
    """The id of token src[lo:hi] (ASCII letters lowercased if lower), added if new; -1 when
    the table must grow first (grow_table) before it can be added."""
    mask = slot_ids.shape[0] - 1
    length = hi - lo
    h = _hash(src, lo, hi, lower)
    slot = np.int64(h & np.uint64(mask))
    while True:
        word = slot_ids[slot]
        if word < 0:
            break
        start = offsets[word]
        if slot_hashes[slot] == h and offsets[word + 1] - start == length:
            same = True
            for k in range(length):
                c = src[lo + k]
                if lower and c >= 65 and c <= 90:
                    c += 32
                if store[start + k] != c:
                    same = False
                    break
            if same:
                return np.int64(word)
        slot = (slot + 1) & mask
    word = sizes[0]
    used = sizes[1]
    if 2 * (word + 1) > slot_ids.shape[0] or used + length > store.shape[0]:
        return np.int64(-1)
    for k in range(length):
        c = src[lo + k]
        if lower and c >= 65 and c <= 90:
            c += 32
        store[used + k] = c
    slot_ids[slot] = word
    slot_hashes[slot] = h
    offsets[word + 1] = used + length
    sizes[0] = word + 1
    sizes[1] = used + length
    return word


@njit(cache=True, nogil=True)
def intern_entries(buf, kinds, starts, ends, count, other, lower, line_end_id, out, state,
                   slot_ids, slot_hashes, offsets, store, sizes):  # fmt: skip
    """Entries state[0]..count-1 of split_runs -> ids appended to out at state[2]: a TOKEN's
    id (its ASCII letters lowercased if lower), line_end_id for a LINE_END, and for each OTHER
    run the ids of its tokens, read in order from `other` at state[1] (UTF-8 bytes: the
    tokens of every OTHER run separated by single spaces, each run's list ended by a "\n"
    item, e.g. b"caf\xc3\xa9 x \n \n"). state [3] int64 = (entry, other cursor, ids
    written), updated. Returns False if it stopped because the table must grow (grow_table,
    then call again), True when done."""
    e, cursor, written = state[0], state[1], state[2]
    n_other = other.shape[0]
    done = True
    word = np.int64(0)
    while e < count:
        kind = kinds[e]
        if kind == TOKEN:
            word = _intern(buf, starts[e], ends[e], lower, slot_ids, slot_hashes, offsets, store,
                           sizes)  # fmt: skip
            if word < 0:
                done = False
                break
            out[written] = word
            written += 1
        elif kind == LINE_END:
            out[written] = line_end_id
            written += 1
        else:
            while cursor < n_other:
                stop = cursor
                while stop < n_other and other[stop] != 32:
                    stop += 1
                if other[cursor] == 10:  # this run's tokens end here
                    cursor = stop + 1
                    break
                word = _intern(other, cursor, stop, False, slot_ids, slot_hashes, offsets,
                               store, sizes)  # fmt: skip
                if word < 0:
                    break
                out[written] = word
                written += 1
                cursor = stop + 1
            if word < 0:
                done = False
                break
        e += 1
    state[0], state[1], state[2] = e, cursor, written
    return done


@njit(cache=True, nogil=True)
def encode_lines(stream, line_end_id, lookup, max_sentence, ids, sent_starts):
    """stream [n] provisional ids with line_end_id after lines -> (N, S): ids[:N] the
    vocabulary ids (lookup[provisional], dropped when -1) and sent_starts[:S + 1] the offsets
    of the sentences: each line cut into pieces of max_sentence tokens, counted before
    dropping, and empty pieces left out. ids [>= n], sent_starts [>= n + 2]."""
    n_ids = 0
    n_sents = 0
    sent_starts[0] = 0
    position = 0  # in the current line, before dropping
    for p in range(stream.shape[0]):
        word = stream[p]
        if word == line_end_id or position == max_sentence:
            if n_ids > sent_starts[n_sents]:
                n_sents += 1
                sent_starts[n_sents] = n_ids
            position = 0
            if word == line_end_id:
                continue
        position += 1
        mapped = lookup[word]
        if mapped >= 0:
            ids[n_ids] = mapped
            n_ids += 1
    if n_ids > sent_starts[n_sents]:
        n_sents += 1
        sent_starts[n_sents] = n_ids
    return n_ids, n_sents
