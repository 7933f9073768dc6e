using System.Text;

namespace Camelid.Data.Nano;

/// <summary>
/// The rule that keeps evaluation prompts out of training, whatever the seeds. Every user turn of a generated
/// conversation has a split key; a key is held out when its stable hash falls in the lowest
/// <see cref="HeldOutPercent"/> of 100 buckets. A conversation is generated for a split only when every one of its
/// keys is on that side, so no training conversation (from any seed) contains a held-out key.
///
/// Keys are chosen per skill. Where the answer is computed (arithmetic, words and lists, unit conversion) the key is
/// the problem itself ("47 + 25", "sort apple,fig,pear", "7 km>m"), so a held-out problem is never seen in training in
/// any wording, not even as the follow-up of another conversation. Where the answer must be known (facts, identity,
/// command help, system-prompt rules) the knowledge has to be in training, so the key is the wording (system prompt +
/// user message) and held-out prompts test unseen wordings of known things.
/// </summary>
public static class NanoHeldOut
{
    public const int HeldOutPercent = 10;

    public static NanoSplit SplitOf(string key) => Bucket(key) < HeldOutPercent ? NanoSplit.HeldOut : NanoSplit.Train;

    /// <summary>
    /// 0..99 from 64-bit FNV-1a over the key's UTF-8 bytes, finished with SplitMix64's mixer so that keys differing
    /// in one trailing digit spread over all buckets. Fixed forever: changing it would move prompts between splits.
    /// </summary>
    public static int Bucket(string key)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(key))
        {
            hash ^= b;
            hash *= 0x100000001B3UL;
        }
        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        hash ^= hash >> 31;
        return (int)(hash % 100);
    }
}
