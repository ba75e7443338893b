"""Reading the buyer: persona data, the word-level signals (intent, stage, emotion, upset), the offline analyzer."""
