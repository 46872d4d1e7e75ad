"""sandbox/ids.py: key prefixes and the case-safe checksum."""

from sandbox import ids


def test_it_computes_the_documented_checksums():
    assert ids.to18("70130000001tcyI") == "70130000001tcyIAAQ"
    assert ids.to18("00558000001N0Ke") == "00558000001N0KeAAK"
    assert ids.to18("00Di0000000icUB") == "00Di0000000icUBEAY"
    assert ids.to18("005i0000002MUqL") == "005i0000002MUqLAAW"


def test_new_ids_have_the_prefix_a_valid_checksum_and_sort_in_creation_order():
    made = [ids.new_id("00Q") for _ in range(50)]
    assert all(i.startswith("00Q") and len(i) == 18 for i in made)
    assert all(ids.to18(i[:15]) == i for i in made)
    assert made == sorted(made)
    assert len(set(made)) == 50


def test_it_accepts_15_char_ids_and_18_char_ids_in_any_case():
    record_id = ids.to18("00Di0000000icUB")
    assert ids.normalize("00Di0000000icUB") == record_id
    assert ids.normalize(record_id.lower()) == record_id
    assert ids.normalize("not-an-id") is None
    assert ids.normalize("00Di0000000icU") is None


def test_processes_side_by_side_never_make_the_same_id(monkeypatch):
    """The server and each bulk worker take the microseconds of their own slot (mod 8)."""
    made = {}
    for slot in range(ids.SLOTS):
        monkeypatch.setattr(ids, "_slot", slot)
        monkeypatch.setattr(ids, "_last", 0)
        made[slot] = [ids.new_id("00Q") for _ in range(200)]
    for slot, batch in made.items():
        assert {ids._base36_value(i[5:15]) % ids.SLOTS for i in batch} == {slot}
    assert len({i for batch in made.values() for i in batch}) == 200 * ids.SLOTS
