"""The recommender's model on hand-made interactions: similarity, reasons, exclusions,
what may be shown again, group affinity and the popular fill."""

from forum.recommend import model

# ann and bo both read 1 and 2; bo also read 3; cy read 3 and 4; 5 is in group "x".
READS = [("ann", 1, 1.0), ("ann", 2, 1.0), ("bo", 1, 1.0), ("bo", 2, 1.0), ("bo", 3, 1.0)]
READS += [("cy", 3, 1.0), ("cy", 4, 1.0)]


def test_co_read_items_come_first_with_the_item_that_brought_them():
    learnt = model.CoOccurrence(READS)
    picks = model.rank(learnt, "ann", k=3, allowed=lambda i: True, popular=[4, 3, 5])
    assert [p.item for p in picks] == [3, 4, 5]
    assert picks[0].because in (1, 2) and picks[0].score > 0
    assert picks[1].because is None and picks[1].score == 0.0  # from the popular fill
    assert 1 not in [p.item for p in picks]  # already read


def test_not_allowed_is_never_picked_even_from_popular():
    learnt = model.CoOccurrence(READS)
    picks = model.rank(learnt, "ann", k=5, allowed=lambda i: i != 3, popular=[3, 4])
    assert [p.item for p in picks] == [4]


def test_seen_items_may_come_back_when_asked_and_count_as_their_own_reason():
    learnt = model.CoOccurrence([("ann", 7, 1.0)])
    picks = model.rank(learnt, "ann", k=2, allowed=lambda i: True, popular=[], skip_seen=False)
    assert [(p.item, p.because) for p in picks] == [(7, 7)]


def test_group_affinity_surfaces_a_fresh_item_in_a_group_the_member_reads():
    learnt = model.CoOccurrence(READS)
    picks = model.rank(
        learnt,
        "cy",
        k=4,
        allowed=lambda i: True,
        popular=[],
        groups={3: "x", 4: "x", 5: "x", 1: "y"},
        popularity={5: 3.0},
    )
    fresh = next(p for p in picks if p.item == 5)
    assert fresh.group == "x" and fresh.because is None


def test_newcomer_gets_only_the_popular_list():
    learnt = model.CoOccurrence(READS)
    picks = model.rank(learnt, "newbie", k=2, allowed=lambda i: True, popular=[2, 1, 3])
    assert [(p.item, p.score) for p in picks] == [(2, 0.0), (1, 0.0)]
    assert model.most_popular(READS)[:2] == [1, 2]
