package suggest

import (
	"math/bits"
	"unicode/utf8"
)

// The counting tables of WordCounter. A corpus of a hundred million words
// has some fifteen million distinct two- and three-word phrases, most of
// them seen once and never listed (a phrase is listed from two
// occurrences). So a phrase seen once takes one slot of an open-addressing
// table and nothing else: its spelling (the surface ids of its words,
// packed in 64 bits, from which its key, the stems, follows) and the
// source it was seen in. Only at its second occurrence does it get a
// counter of its own (wordAcc), which the slot then points to. A slot is
// 12 bytes and the table is kept between half and three-quarters full, so
// a phrase seen once costs some 20 bytes where a map entry and a counter
// cost 90. Words, far fewer and far more often seen, have their slots in
// an array by stem id.
//
// Surface ids are packed 21 bits each; a phrase with a larger id (a
// vocabulary of over two million spellings) is counted in a map on the
// side, the same way.

const (
	// promoted marks a slot value that is the index of a wordAcc; without
	// it the value is the ordinal (in the group) of the source where the
	// word or phrase was seen once.
	promoted = 1 << 31
	// wordIDBits is how many bits each surface id takes in a packed form.
	wordIDBits = 21
	// wordShardMin is the fewest slots of a shard.
	wordShardMin = 32
)

// wordSlot is one slot of a wordTable: a packed form (lo, hi), 0 when the
// slot is free, and its value.
type wordSlot struct{ lo, hi, val uint32 }

func (s *wordSlot) form() uint64 { return uint64(s.hi)<<32 | uint64(s.lo) }

// wordTable finds the slot of a key. It is made of wordShards shards, the
// top bits of a key's hash choosing one, each an open-addressing table
// with linear probing that grows by half when three-quarters full: as
// each shard grows on its own, growing never holds more than a shard
// twice.
type wordTable struct {
	shards [wordShards]wordShard
}

const (
	wordShardBits = 8
	wordShards    = 1 << wordShardBits
)

// wordShard is one shard of a wordTable. Its length is not a power of two:
// a hash is mapped to a slot by multiplication.
type wordShard struct {
	slots []wordSlot
	n     int // slots in use
	limit int // n at which the shard grows
}

func newWordShard(size int) wordShard {
	size = max(size, wordShardMin)
	return wordShard{slots: make([]wordSlot, size), limit: size * 3 / 4}
}

// reset empties the table: a small one is cleared to be used again, a
// large one let go, so that many small groups after a large one do not
// each clear it.
func (t *wordTable) reset() {
	for i := range t.shards {
		sh := &t.shards[i]
		if len(sh.slots) == 0 || len(sh.slots) > 4*wordShardMin {
			*sh = newWordShard(0)
		} else {
			clear(sh.slots)
			sh.n = 0
		}
	}
}

// len is the number of slots in use.
func (t *wordTable) len() int {
	n := 0
	for i := range t.shards {
		n += t.shards[i].n
	}
	return n
}

// wordHash mixes a packed key (the splitmix64 finaliser).
func wordHash(k uint64) uint64 {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	return k ^ k>>31
}

// shard returns the shard of hash h and the first slot to look at in it.
func (t *wordTable) shard(h uint64) (*wordShard, int) {
	sh := &t.shards[h>>(64-wordShardBits)]
	i, _ := bits.Mul64(h<<wordShardBits, uint64(len(sh.slots)))
	return sh, int(i)
}

// grow moves the slots of a shard into one half as large again; key
// gives the packed key of a packed form.
func (t *wordTable) grow(sh *wordShard, key func(uint64) uint64) {
	old := sh.slots
	*sh = newWordShard(len(old) + len(old)/2)
	for k := range old {
		s := &old[k]
		f := s.form()
		if f == 0 {
			continue
		}
		_, i := t.shard(wordHash(key(f)))
		for sh.slots[i].form() != 0 {
			if i++; i == len(sh.slots) {
				i = 0
			}
		}
		sh.slots[i] = *s
		sh.n++
	}
}

// pack packs surface or stem ids into 64 bits; ok is false when one does
// not fit in bits bits.
func pack(ids [3]uint32, bits uint) (p uint64, ok bool) {
	if (ids[0]|ids[1]|ids[2])>>bits != 0 {
		return 0, false
	}
	return uint64(ids[0]) | uint64(ids[1])<<bits | uint64(ids[2])<<(2*bits), true
}

func unpack(p uint64, bits uint) [3]uint32 {
	m := uint64(1)<<bits - 1
	return [3]uint32{uint32(p & m), uint32(p >> bits & m), uint32(p >> (2 * bits) & m)}
}

// appendWordSpans appends the words of rs to dst as code-point spans (see
// wordSpans), reusing dst's room.
func appendWordSpans(dst [][2]int32, rs []rune) [][2]int32 {
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(rs) {
			if isWordRune(rs[j]) {
				j++
				continue
			}
			if isJoiner(rs[j]) && j+1 < len(rs) && isWordRune(rs[j+1]) {
				j += 2
				continue
			}
			break
		}
		dst = append(dst, [2]int32{int32(i), int32(j)})
		i = j
	}
	return dst
}

// appendRunes appends the code points of s to dst, as []rune(s) has them.
func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

// appendUTF8 appends rs encoded as UTF-8.
func appendUTF8(dst []byte, rs []rune) []byte {
	for _, r := range rs {
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}
