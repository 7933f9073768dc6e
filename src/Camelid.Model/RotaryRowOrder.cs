namespace Camelid.Model;

/// <summary>
/// The two row orders of Q/K matrices. Meta (and GGUF, llama2.c, and every matrix inside Camelid) rotates adjacent pairs
/// (2i, 2i+1) of a head; Hugging Face checkpoints rotate the two halves of a head (rotate_half), so
/// convert_llama_weights_to_hf.py permutes each head's rows: HF row h·hs + r·hs/2 + i is Meta row h·hs + 2i + r.
/// </summary>
public static class RotaryRowOrder
{
    public static long MetaRowOf(long hfRow, int headSize)
    {
        long head = hfRow / headSize, within = hfRow % headSize;
        int half = headSize / 2;
        return head * headSize + 2 * (within % half) + within / half;
    }

    public static long HfRowOf(long metaRow, int headSize)
    {
        long head = metaRow / headSize, within = metaRow % headSize;
        return head * headSize + (within % 2) * (headSize / 2) + within / 2;
    }
}
