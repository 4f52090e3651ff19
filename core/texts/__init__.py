"""Everything groupcast says to people, in one place and ready for translation.

One module a surface: `help` (usage lines), `time` (durations and clock times), `reasons`
(why someone is or is not available), `availability` (verdicts and the /away-/hours
answers), `lists` (naming several people), `replies` (the answer to an ask), `asks` (the DM
and what the requester hears later), `community` (`/community …` and subscriptions).
Adapters add only platform markup. This package imports none of its modules, so the pure
ones low in the core (`presence`, `grouping`) can take their words from a leaf.
"""
