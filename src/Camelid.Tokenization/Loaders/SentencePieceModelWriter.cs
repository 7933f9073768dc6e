// Writes a "llama" (SentencePiece BPE) vocabulary as a tokenizer.model: a protobuf ModelProto with the fields
// SentencePieceModelFile reads (numbers in its header comment; sentencepiece src/sentencepiece_model.proto), in
// field-number order as protobuf serializers emit them:
//   pieces           piece, score (always, as spm_train writes it), type only when not NORMAL (the default)
//   trainer_spec     model_type BPE, vocab_size, byte_fallback (35), unk/bos/eos/pad ids (40-43, -1 = none),
//                    unk_surface (44) when the vocabulary has its own, unk/bos/eos/pad pieces (45-48)
//   normalizer_spec  name "identity" (no precompiled rules), add_dummy_prefix, remove_extra_whitespaces,
//                    escape_whitespaces
// A vocabulary read from a real tokenizer.model gives back its pieces section byte for byte.
// sentencepiece (model_interface.cc InitializePieces) refuses a model whose pieces are empty or repeated
// (normal, user-defined and unused pieces share one namespace, control/unknown/byte pieces another), that has not
// exactly one UNKNOWN piece, that has byte pieces without byte_fallback, or byte_fallback without all 256 byte
// pieces; this writer checks the same rules so that it never writes a file sentencepiece would reject.
// The piece strings it writes for bos/eos/unk/pad are what sentencepiece's bos_id() etc. look up.
using System.Text;

namespace Camelid.Tokenization;

public static class SentencePieceModelWriter
{
    const int ModelTypeBpe = 2;

    /// <summary>The tokenizer.model bytes of a SentencePiece BPE vocabulary.</summary>
    /// <exception cref="TokenizerException">The vocabulary is not "llama", or sentencepiece could not load it.</exception>
    public static byte[] Serialize(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Model != Vocabulary.SentencePieceModel)
            throw new TokenizerException($"only SentencePiece (\"{Vocabulary.SentencePieceModel}\") vocabularies can be written as tokenizer.model; this one is \"{vocabulary.Model}\"");
        vocabulary.Validate();
        var types = Enumerable.Range(0, vocabulary.Tokens.Count).Select(vocabulary.TypeOf).ToArray();
        bool byteFallback = CheckLoadable(vocabulary, types);

        var model = new ProtoWriter();
        for (int id = 0; id < types.Length; id++)
        {
            var piece = new ProtoWriter();
            piece.String(1, vocabulary.Tokens[id]);
            piece.Float(2, vocabulary.Scores?[id] ?? 0f);
            if (types[id] != TokenType.Normal)
                piece.Varint(3, (ulong)types[id]);
            model.Message(1, piece);
        }

        var trainer = new ProtoWriter();
        trainer.Varint(3, ModelTypeBpe);
        trainer.Int32(4, types.Length);
        trainer.Bool(35, byteFallback);
        int unk = vocabulary.UnknownId!.Value, pad = vocabulary.PaddingId ?? -1;
        trainer.Int32(40, unk);
        trainer.Int32(41, vocabulary.BosId);
        trainer.Int32(42, vocabulary.EosId);
        trainer.Int32(43, pad);
        if (vocabulary.UnknownSurface != null)
            trainer.String(44, vocabulary.UnknownSurface);
        (int Field, int Id)[] specialPieces = [(45, unk), (46, vocabulary.BosId), (47, vocabulary.EosId), (48, pad)];
        foreach (var (field, id) in specialPieces)
            if (id >= 0)
                trainer.String(field, vocabulary.Tokens[id]);
        model.Message(2, trainer);

        var normalizer = new ProtoWriter();
        normalizer.String(1, "identity");
        normalizer.Bool(3, vocabulary.AddSpacePrefix);
        normalizer.Bool(4, vocabulary.RemoveExtraWhitespaces);
        normalizer.Bool(5, true);
        model.Message(3, normalizer);
        return model.ToArray();
    }

    /// <summary>sentencepiece's load-time checks; returns whether byte fallback is on (the vocabulary has byte pieces).</summary>
    static bool CheckLoadable(Vocabulary v, TokenType[] types)
    {
        var mergeable = new HashSet<string>(StringComparer.Ordinal);
        var reserved = new HashSet<string>(StringComparer.Ordinal);
        var bytesFound = new bool[256];
        int unknownCount = 0, byteCount = 0;
        for (int id = 0; id < types.Length; id++)
        {
            string piece = v.Tokens[id];
            if (piece.Length == 0)
                throw new TokenizerException($"token {id} is empty, which a tokenizer.model cannot hold");
            bool isMergeable = types[id] is TokenType.Normal or TokenType.UserDefined or TokenType.Unused;
            if (!(isMergeable ? mergeable : reserved).Add(piece))
                throw new TokenizerException($"token {id} '{piece}' appears twice in the vocabulary, which a tokenizer.model cannot hold");
            if (types[id] == TokenType.Unknown)
                unknownCount++;
            if (types[id] == TokenType.Byte)
            {
                if (!ByteTokens.TryParse(piece, out byte b))
                    throw new TokenizerException($"token {id} '{piece}' is a byte token but not of the form <0xNN>");
                bytesFound[b] = true;
                byteCount++;
            }
        }
        if (unknownCount != 1 || v.UnknownId is not int unk || types[unk] != TokenType.Unknown)
            throw new TokenizerException($"a tokenizer.model needs exactly one unknown token, named by the vocabulary's unknown id; this vocabulary has {unknownCount} (unknown id {v.UnknownId?.ToString() ?? "none"})");
        if (byteCount > 0 && bytesFound.Contains(false))
            throw new TokenizerException($"the vocabulary has {byteCount} byte tokens; byte fallback in a tokenizer.model needs all 256 (<0x00>..<0xFF>)");
        return byteCount > 0;
    }

    /// <summary>Protobuf wire format: a varint key (field << 3 | wire type) before each value; length-delimited
    /// values (strings, messages) are preceded by their byte count.</summary>
    sealed class ProtoWriter
    {
        readonly MemoryStream _bytes = new();

        public void Varint(int field, ulong value)
        {
            Key(field, 0);
            WriteVarint(value);
        }

        /// <summary>int32 fields: a negative value is sign-extended to 64 bits, ten bytes on the wire.</summary>
        public void Int32(int field, int value) => Varint(field, (ulong)(long)value);

        public void Bool(int field, bool value) => Varint(field, value ? 1ul : 0ul);

        public void Float(int field, float value)
        {
            Key(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BitConverter.TryWriteBytes(bytes, value);
            if (!BitConverter.IsLittleEndian)
                bytes.Reverse();
            _bytes.Write(bytes);
        }

        public void String(int field, string value) => LengthDelimited(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => LengthDelimited(field, message.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

        void LengthDelimited(int field, byte[] value)
        {
            Key(field, 2);
            WriteVarint((ulong)value.Length);
            _bytes.Write(value);
        }

        void Key(int field, int wire) => WriteVarint(((ulong)field << 3) | (uint)wire);

        void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
