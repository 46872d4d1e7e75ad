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
