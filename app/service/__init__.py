"""kgedit's operations layer: the command line and the UI are thin adapters over it.

``curation`` holds :class:`~app.service.curation.KgService` (resolve, add, retract, show, history,
the edit log, conflicts, preview, import, export, plain-text facts); ``names`` resolves what a
curator types, with "did you mean"; ``impact`` adds to the store's preview the multi-hop answers an
edit changes; ``text_facts`` and ``text_lm`` read facts from plain text; ``answering`` builds the
answering systems' context in one place and answers questions; ``evaluating`` checks and runs an
MQuAKE evaluation; ``model`` propagates, reverts, lists, measures and re-fits weight deltas over
the one deltas folder.
"""
