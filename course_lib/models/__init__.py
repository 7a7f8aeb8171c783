"""The course's own models, built from ``course_lib.nn`` (which keeps mirroring ``torch.nn``).

Like nanoGPT's ``model.py``, this is where a reader finds the networks the
notebooks train: today the recurrent language model of notebook 09.
"""
from .recurrent import (RecurrentLanguageModel, generate_recurrent, recurrent_nll, sentence_stream, stream_batches,
                        train_recurrent_lm)

__all__ = ["RecurrentLanguageModel", "train_recurrent_lm", "recurrent_nll", "generate_recurrent", "sentence_stream",
           "stream_batches"]
