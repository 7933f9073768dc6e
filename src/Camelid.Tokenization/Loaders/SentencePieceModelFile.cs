// SentencePiece tokenizer.model: a serialized protobuf ModelProto (sentencepiece src/sentencepiece_model.proto).
// Only the fields used here are decoded; all others are skipped by wire type.
//   ModelProto      1 pieces (repeated SentencePiece) | 2 trainer_spec (TrainerSpec) | 3 normalizer_spec (NormalizerSpec)
//   SentencePiece   1 piece (string) | 2 score (float) | 3 type (enum: 1 normal, 2 unknown, 3 control, 4 user-defined,
//                   5 unused, 6 byte; default 1)
//   TrainerSpec     3 model_type (enum: 1 unigram (default), 2 bpe, 3 word, 4 char) | 4 vocab_size | 24 treat_whitespace_as_suffix
//                   | 40 unk_id (default 0) | 41 bos_id (1) | 42 eos_id (2) | 43 pad_id (-1); -1 = none
//                   | 44 unk_surface (string, default " \u2047 ")
//   NormalizerSpec  1 name | 2 precompiled_charsmap (bytes) | 3 add_dummy_prefix (default true)
//                   | 4 remove_extra_whitespaces (default true) | 5 escape_whitespaces (default true)
// Protobuf wire format: each field is a varint key (field_number << 3 | wire_type) followed by a varint (type 0),
// 8 bytes (1), a varint length and that many bytes (2), or 4 bytes (5), little-endian.
using System.Text;

namespace Camelid.Tokenization;

public static partial class TokenizerLoader
{
    const long MaxTokenizerFileBytes = 512L << 20;

    /// <summary>A SentencePiece BPE tokenizer.model (LLaMA-1/2 and models trained with sentencepiece).</summary>
    public static Vocabulary FromSentencePieceModel(string path)
    {
        var data = ReadWholeFile(path, "tokenizer.model");
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<TokenType>();
        TrainerSpec? trainer = null;
        NormalizerSpec? normalizer = null;

        var reader = new ProtoReader(data, path);
        while (reader.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    var (piece, score, type) = ReadPiece(reader.Message(wire, "pieces"), path, tokens.Count);
                    tokens.Add(piece);
                    scores.Add(score);
                    types.Add(type);
                    break;
                case 2: trainer = ReadTrainerSpec(reader.Message(wire, "trainer_spec")); break;
                case 3: normalizer = ReadNormalizerSpec(reader.Message(wire, "normalizer_spec")); break;
                default: reader.Skip(wire); break;
            }
        }

        if (tokens.Count == 0)
            throw new TokenizerException($"{path}: no pieces found; this is not a SentencePiece tokenizer.model");
        if (trainer is null || normalizer is null)
            throw new TokenizerException($"{path}: the trainer_spec or normalizer_spec section is missing after {tokens.Count} pieces; the file is truncated or not a SentencePiece model");
        var t = trainer.Value;
        var norm = normalizer.Value;
        if (t.ModelType != 2)
            throw new TokenizerException($"{path}: SentencePiece model type {ModelTypeName(t.ModelType)} is not supported; only BPE models (LLaMA's) are");
        if (t.TreatWhitespaceAsSuffix || !norm.EscapeWhitespaces)
            throw new TokenizerException($"{path}: treat_whitespace_as_suffix / escape_whitespaces=false are not supported");
        if (norm.HasCharsMap)
            throw new TokenizerException($"{path}: normalization rule '{norm.Name}' is not supported; only 'identity' (as in LLaMA's tokenizer.model) is");

        int? Id(int value, string what, bool required)
        {
            if (value == -1 && !required)
                return null;
            if (value < 0 || value >= tokens.Count)
                throw new TokenizerException($"{path}: trainer_spec {what} = {value} is outside the vocabulary (0..{tokens.Count - 1}); the file is corrupted");
            return value;
        }

        int bos = Id(t.BosId, "bos_id", false) ?? -1;
        int eos = Id(t.EosId, "eos_id", false) ?? -1;
        var vocabulary = new Vocabulary(
            Vocabulary.SentencePieceModel, null, tokens, [.. scores], [.. types], null,
            bos, eos, Id(t.UnkId, "unk_id", true), Id(t.PadId, "pad_id", false),
            AddBos: bos >= 0, AddEos: false, AddSpacePrefix: norm.AddDummyPrefix)
        {
            RemoveExtraWhitespaces = norm.RemoveExtraWhitespaces,
            UnknownSurface = t.UnkSurface,
        };
        return WithChecks(vocabulary, path);
    }

    static string ModelTypeName(int type) => type switch { 1 => "UNIGRAM", 2 => "BPE", 3 => "WORD", 4 => "CHAR", _ => type.ToString() };

    static (string Piece, float Score, TokenType Type) ReadPiece(ProtoReader r, string path, int index)
    {
        string? piece = null;
        float score = 0;
        long type = (long)TokenType.Normal;
        while (r.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 1: piece = r.String(wire, "piece"); break;
                case 2: score = r.Float(wire, "score"); break;
                case 3: type = r.Varint(wire, "type"); break;
                default: r.Skip(wire); break;
            }
        }
        if (piece is null)
            throw new TokenizerException($"{path}: piece {index} has no text; the file is corrupted");
        if (type is < 1 or > 6)
            throw new TokenizerException($"{path}: piece {index} '{piece}' has unknown type {type}; the file is corrupted");
        return (piece, score, (TokenType)type);
    }

    record struct TrainerSpec(int ModelType, int UnkId, int BosId, int EosId, int PadId, bool TreatWhitespaceAsSuffix, string? UnkSurface);

    static TrainerSpec ReadTrainerSpec(ProtoReader r)
    {
        var spec = new TrainerSpec(ModelType: 1, UnkId: 0, BosId: 1, EosId: 2, PadId: -1, TreatWhitespaceAsSuffix: false, UnkSurface: null);
        while (r.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 3: spec.ModelType = (int)r.Varint(wire, "model_type"); break;
                case 24: spec.TreatWhitespaceAsSuffix = r.Varint(wire, "treat_whitespace_as_suffix") != 0; break;
                case 40: spec.UnkId = (int)r.Varint(wire, "unk_id"); break; // int32: negative values are 10-byte varints
                case 41: spec.BosId = (int)r.Varint(wire, "bos_id"); break;
                case 42: spec.EosId = (int)r.Varint(wire, "eos_id"); break;
                case 43: spec.PadId = (int)r.Varint(wire, "pad_id"); break;
                case 44: spec.UnkSurface = r.String(wire, "unk_surface"); break;
                default: r.Skip(wire); break;
            }
        }
        return spec;
    }

    record struct NormalizerSpec(string Name, bool HasCharsMap, bool AddDummyPrefix, bool RemoveExtraWhitespaces, bool EscapeWhitespaces);

    static NormalizerSpec ReadNormalizerSpec(ProtoReader r)
    {
        var spec = new NormalizerSpec("", false, AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true);
        while (r.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 1: spec.Name = r.String(wire, "name"); break;
                case 2: spec.HasCharsMap = r.Bytes(wire, "precompiled_charsmap").Length > 0; break;
                case 3: spec.AddDummyPrefix = r.Varint(wire, "add_dummy_prefix") != 0; break;
                case 4: spec.RemoveExtraWhitespaces = r.Varint(wire, "remove_extra_whitespaces") != 0; break;
                case 5: spec.EscapeWhitespaces = r.Varint(wire, "escape_whitespaces") != 0; break;
                default: r.Skip(wire); break;
            }
        }
        return spec;
    }

    static byte[] ReadWholeFile(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new TokenizerException($"{path}: {what} not found");
        long length = new FileInfo(path).Length;
        if (length > MaxTokenizerFileBytes)
            throw new TokenizerException($"{path}: {length} bytes is too large for a {what} (limit {MaxTokenizerFileBytes >> 20} MiB); is this the right file?");
        return File.ReadAllBytes(path);
    }

    /// <summary>Bounds-checked protobuf wire-format reader over one message.</summary>
    sealed class ProtoReader(ReadOnlyMemory<byte> data, string source)
    {
        int _pos;

        public bool TryReadKey(out int field, out int wire)
        {
            field = wire = 0;
            if (_pos >= data.Length)
                return false;
            ulong key = ReadVarint();
            wire = (int)(key & 7);
            ulong number = key >> 3;
            if (number == 0 || number > int.MaxValue)
                throw Corrupt($"invalid field number {number}");
            field = (int)number;
            return true;
        }

        public long Varint(int wire, string name)
        {
            Expect(wire, 0, name);
            return (long)ReadVarint();
        }

        public float Float(int wire, string name)
        {
            Expect(wire, 5, name);
            return BitConverter.ToSingle(Take(4));
        }

        public ReadOnlySpan<byte> Bytes(int wire, string name)
        {
            Expect(wire, 2, name);
            return LengthDelimited().Span;
        }

        public string String(int wire, string name)
        {
            try
            {
                return Utf8Strict.GetString(Bytes(wire, name));
            }
            catch (DecoderFallbackException)
            {
                throw Corrupt($"field '{name}' is not valid UTF-8");
            }
        }

        public ProtoReader Message(int wire, string name)
        {
            Expect(wire, 2, name);
            return new ProtoReader(LengthDelimited(), source);
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: ReadVarint(); break;
                case 1: Take(8); break;
                case 2: LengthDelimited(); break;
                case 5: Take(4); break;
                default: throw Corrupt($"unsupported protobuf wire type {wire}");
            }
        }

        ReadOnlyMemory<byte> LengthDelimited()
        {
            ulong length = ReadVarint();
            if (length > (ulong)(data.Length - _pos))
                throw Corrupt($"a field of {length} bytes runs past the end of its message");
            var slice = data.Slice(_pos, (int)length);
            _pos += (int)length;
            return slice;
        }

        ulong ReadVarint()
        {
            ulong value = 0;
            for (int shift = 0; shift < 70; shift += 7)
            {
                if (_pos >= data.Length)
                    throw Corrupt("unexpected end of data inside a number");
                byte b = data.Span[_pos++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                    return value;
            }
            throw Corrupt("a number is longer than 10 bytes");
        }

        ReadOnlySpan<byte> Take(int n)
        {
            if (n > data.Length - _pos)
                throw Corrupt("unexpected end of data");
            var span = data.Span.Slice(_pos, n);
            _pos += n;
            return span;
        }

        void Expect(int wire, int expected, string name)
        {
            if (wire != expected)
                throw Corrupt($"field '{name}' has wire type {wire}, expected {expected}");
        }

        TokenizerException Corrupt(string what) =>
            new($"{source}: {what} (protobuf parse error); the tokenizer.model is truncated or corrupted");
    }

    static readonly UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
