using System.Security.Cryptography;
using System.Text;
using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>
/// Exact duplicates, first one wins: a repeated non-empty id, or the same content — every role and text, hashed
/// with SHA-256 (16 bytes kept, so 90K conversations cost about 2 MB). FastChat's cleaner keyed content on
/// (first answer, turn count), which also drops different conversations that share a first answer; this keys
/// on the whole conversation, so only true copies go.
/// </summary>
public sealed class ConversationDeduplicator
{
    readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    readonly HashSet<UInt128> _contents = [];

    /// <summary>The drop reason when the conversation was seen before, else null (and it is remembered).</summary>
    public string? Check(ShareGptConversation conversation)
    {
        if (conversation.Id.Length > 0 && _ids.Contains(conversation.Id))
            return DropReasons.DuplicateId;
        if (!_contents.Add(ContentHash(conversation)))
            return DropReasons.DuplicateContent;
        if (conversation.Id.Length > 0)
            _ids.Add(conversation.Id);
        return null;
    }

    public static UInt128 ContentHash(ShareGptConversation conversation)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var turn in conversation.Turns)
        {
            // Length-prefixed so ("ab","c") and ("a","bc") differ.
            foreach (string part in (ReadOnlySpan<string>)[turn.From, turn.Value])
            {
                byte[] bytes = Encoding.UTF8.GetBytes(part);
                BitConverter.TryWriteBytes(length, bytes.Length);
                sha.AppendData(length);
                sha.AppendData(bytes);
            }
        }
        Span<byte> digest = stackalloc byte[32];
        sha.GetHashAndReset(digest);
        return BitConverter.ToUInt128(digest);
    }
}
