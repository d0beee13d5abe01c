"""The field names transformers defines for the Hugging Face files (transformers 4.57.6), as data: the
extractors check a file against them without importing transformers.

Generated from transformers 4.57.6 (the version ``engines.transformers.TRANSFORMERS_DEFAULTS_VERSION`` pins), in a
Python with it installed::

    from transformers import GenerationConfig, PretrainedConfig
    sorted(GenerationConfig().__dict__)   # GENERATION_CONFIG_FIELDS
    sorted(PretrainedConfig().__dict__)   # the base of CONFIG_FIELDS

``tests/engines/test_transformers_fields.py`` compares them with an installed transformers of that version.
"""

from __future__ import annotations

#: Every attribute ``GenerationConfig.__init__`` sets (``GenerationConfig().__dict__``), the bookkeeping keys
#: ``save_pretrained`` writes (``transformers_version``, ``_from_model_config``) included. Any other key of a
#: generation_config.json becomes a plain attribute that the generic ``generate()`` never reads.
GENERATION_CONFIG_FIELDS = frozenset((
    "_commit_hash", "_from_model_config", "assistant_confidence_threshold", "assistant_early_exit",
    "assistant_lookbehind", "bad_words_ids", "begin_suppress_tokens", "bos_token_id", "cache_config",
    "cache_implementation", "compile_config", "constraints", "decoder_start_token_id", "disable_compile",
    "diversity_penalty", "do_sample", "dola_layers", "early_stopping", "encoder_no_repeat_ngram_size",
    "encoder_repetition_penalty", "eos_token_id", "epsilon_cutoff", "eta_cutoff",
    "exponential_decay_length_penalty", "force_words_ids", "forced_bos_token_id", "forced_eos_token_id",
    "guidance_scale", "is_assistant", "length_penalty", "low_memory", "max_length", "max_matching_ngram_size",
    "max_new_tokens", "max_time", "min_length", "min_new_tokens", "min_p", "no_repeat_ngram_size",
    "num_assistant_tokens", "num_assistant_tokens_schedule", "num_beam_groups", "num_beams", "num_return_sequences",
    "output_attentions", "output_hidden_states", "output_logits", "output_scores", "pad_token_id", "penalty_alpha",
    "prefill_chunk_size", "prompt_lookup_num_tokens", "remove_invalid_values", "renormalize_logits",
    "repetition_penalty", "return_dict_in_generate", "return_legacy_cache", "sequence_bias", "stop_strings",
    "suppress_tokens", "target_lookbehind", "temperature", "token_healing", "top_k", "top_p",
    "transformers_version", "typical_p", "use_cache", "watermarking_config",
))

#: Attributes a model's own ``generate()`` (Whisper, Bark, SeamlessM4T, MusicGen, Moshi, ...) or
#: ``generate_batch`` reads from the generation config beyond ``GENERATION_CONFIG_FIELDS``: every
#: ``generation_config.<name>`` and ``getattr``/``hasattr(generation_config, "<name>")`` under ``models/`` and
#: ``generation/`` of transformers 4.57.6 that ``__init__`` does not set. Real fields for those models, so they
#: are not reported as unknown.
MODEL_GENERATION_FIELDS = frozenset((
    "alignment_heads", "audio_window_size", "block_size", "char_to_id", "coarse_acoustics_config",
    "coarse_infer_token", "coarse_rate_hz", "coarse_semantic_pad_token", "codebook_size",
    "composer_to_feature_token", "compression_ratio_threshold", "condition_on_prev_tokens", "depth_decoder_config",
    "extra_output_flags", "fine_acoustics_config", "force_unique_generate_call", "forced_decoder_ids",
    "generation_kwargs", "id_to_text", "is_multilingual", "lang_to_id", "language", "log_prob_generation",
    "logprob_threshold", "max_batch_tokens", "max_coarse_history", "max_coarse_input_length",
    "max_fine_history_length", "max_fine_input_length", "max_initial_timestamp_index", "max_input_semantic_length",
    "max_memory", "min_eos_p", "n_coarse_codebooks", "n_fine_codebooks", "no_speech_threshold",
    "no_timestamps_token_id", "num_blocks", "num_frames", "prev_sot_token_id", "profile", "prompt_condition_type",
    "return_timestamps", "return_token_timestamps", "scheduler", "semantic_config", "semantic_infer_token",
    "semantic_pad_token", "semantic_rate_hz", "semantic_vocab_size", "sliding_window_len", "t2u_lang_code_to_id",
    "task", "task_to_id", "text_decoder_lang_to_code_id", "text_encoding_offset", "text_pad_token",
    "use_cuda_graph", "vocoder_lang_code_to_id",
))

#: ``config.json`` attributes every ``PretrainedConfig`` has (``PretrainedConfig().__dict__``), ``model_type``,
#: ``torch_dtype`` (the name before ``dtype``), ``quantization_config``, ``auto_map``, ``use_cache``, and the
#: size attributes ``hf-config`` maps (``vocab_size``, ``hidden_size``/``d_model``/``n_embd``, ...). Model
#: classes add their own, so this set is open: it only tells a config.json from another product's file.
CONFIG_FIELDS = frozenset((
    "_attn_implementation_internal", "_commit_hash", "_name_or_path", "_output_attentions", "add_cross_attention",
    "architectures", "attn_implementation", "auto_map", "bad_words_ids", "begin_suppress_tokens", "bos_token_id",
    "chunk_size_feed_forward", "cross_attention_hidden_size", "d_model", "decoder_start_token_id",
    "diversity_penalty", "do_sample", "dtype", "early_stopping", "encoder_no_repeat_ngram_size", "eos_token_id",
    "exponential_decay_length_penalty", "finetuning_task", "forced_bos_token_id", "forced_eos_token_id",
    "hidden_size", "id2label", "is_decoder", "is_encoder_decoder", "label2id", "length_penalty", "max_length",
    "max_position_embeddings", "min_length", "model_type", "n_embd", "n_head", "n_layer", "n_positions",
    "no_repeat_ngram_size", "num_attention_heads", "num_beam_groups", "num_beams", "num_hidden_layers",
    "num_labels", "num_layers", "num_return_sequences", "output_hidden_states", "output_scores", "pad_token_id",
    "prefix", "problem_type", "pruned_heads", "quantization_config", "remove_invalid_values", "repetition_penalty",
    "return_dict", "return_dict_in_generate", "sep_token_id", "suppress_tokens", "task_specific_params",
    "temperature", "tf_legacy_loss", "tie_encoder_decoder", "tie_word_embeddings", "tokenizer_class", "top_k",
    "top_p", "torch_dtype", "torchscript", "transformers_version", "typical_p", "use_bfloat16", "use_cache",
    "vocab_size",
))

#: ``tokenizer_config.json`` keys ``PreTrainedTokenizerBase``/``PreTrainedTokenizerFast`` read (the
#: ``kwargs.pop`` names of tokenization_utils_base.py and tokenization_utils_fast.py, the special-token
#: attributes), and the init arguments most tokenizer classes share (``add_bos_token``, ``do_lower_case``,
#: ``legacy``, ``vocab_file``, ...). Tokenizer classes take their own arguments, so this set is open too.
TOKENIZER_CONFIG_FIELDS = frozenset((
    "add_bos_token", "add_eos_token", "add_prefix_space", "added_tokens_decoder", "additional_special_tokens",
    "auto_map", "bos_token", "chat_template", "clean_up_tokenization_spaces", "cls_token", "do_lower_case",
    "eos_token", "errors", "extra_special_tokens", "from_slow", "legacy", "mask_token", "max_len", "merges_file",
    "model_input_names", "model_max_length", "name_or_path", "pad_token", "padding_side", "processor_class",
    "sep_token", "sp_model_kwargs", "spaces_between_special_tokens", "special_tokens_map_file",
    "split_special_tokens", "src_lang", "tgt_lang", "tokenizer_class", "tokenizer_file", "truncation_side",
    "unk_token", "use_default_system_prompt", "vocab_file",
))
