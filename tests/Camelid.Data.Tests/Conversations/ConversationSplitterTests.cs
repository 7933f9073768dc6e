using System.Text;
using Camelid.Data.Conversations;
using Camelid.Data.Formats;
using Camelid.Tests;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;
using static Camelid.Data.Tests.Conversations.Conv;

namespace Camelid.Data.Tests.Conversations;

/// <summary>Token counts and splits checked against the real LLaMA-2 SentencePiece tokenizer and FastChat's vicuna text.</summary>
public class ConversationSplitterTests
{
    const string TokenizerFile = "tokenizers/llama2c/tokenizer.model";

    static Tokenizer? _tokenizer;
    static Tokenizer LlamaTokenizer => _tokenizer ??= DataTokenizer.Load(null, TestPaths.Shared(TokenizerFile));
    static ConversationTokenCounter Vicuna => new(LlamaTokenizer, ChatTemplates.Get("vicuna"));

    /// <summary>
    /// Reference: the exact text FastChat's vicuna_v1.1 trains on, "{system} USER: {u} ASSISTANT: {a}&lt;/s&gt;USER: …",
    /// written out by hand here and tokenized with BOS and "&lt;/s&gt;" as the EOS token.
    /// </summary>
    static int VicunaTrainingTokens(IReadOnlyList<ShareGptTurn> turns)
    {
        int first = turns[0].From == "system" ? 1 : 0;
        var text = new StringBuilder((first == 1 ? turns[0].Value : ChatTemplates.Get("vicuna").DefaultSystemPrompt) + " ");
        for (int i = first; i + 1 < turns.Count; i += 2)
            text.Append("USER: ").Append(turns[i].Value).Append(" ASSISTANT: ").Append(turns[i + 1].Value).Append("</s>");
        return LlamaTokenizer.Encode(text.ToString(), addBos: true, parseSpecial: true).Length;
    }

    static string Sentence(int i) => $"Sentence number {i} talks about llamas, alpacas and vicunas grazing in the Andes. ";

    static string Words(int sentences, int offset = 0) => string.Concat(Enumerable.Range(offset, sentences).Select(Sentence)).TrimEnd();

    [SharedDataFact(TokenizerFile)]
    public void NoTemplate_CountsTextTokensPlusBos()
    {
        var counter = new ConversationTokenCounter(LlamaTokenizer, null);
        var c = Of("a", H("Hello there, how are you?"), G("Fine, thanks. And you?"));
        int expected = 1 + c.Turns.Sum(t => LlamaTokenizer.Encode(t.Value, addBos: false).Length);
        Assert.Equal(expected, counter.CountConversation(c.Turns));
        Assert.Equal(0, counter.RoundOverhead);
    }

    [SharedDataFact(TokenizerFile)]
    public void VicunaCount_IsAnUpperBound_WithinAFewTokens()
    {
        var counter = Vicuna;
        foreach (var c in new[]
        {
            Of("a", H("Hello there, how are you?"), G("Fine, thanks. And you?")),
            Of("b", H("Q one"), G(Words(3)), H("Q two: 名前は?"), G("Answer with `code` and\nnew lines.")),
            Of("c", S("You are a pirate."), H("Ahoy"), G("Arr!"), H("Where is the gold?"), G(Words(5, 7))),
        })
        {
            int actual = VicunaTrainingTokens(c.Turns), estimate = counter.CountConversation(c.Turns);
            Assert.InRange(estimate - actual, 0, 12);
        }
    }

    [SharedDataFact(TokenizerFile)]
    public void LongConversation_SplitsAtRounds_EveryPieceFits_NothingLost()
    {
        var c = Of("long", Enumerable.Range(0, 6).SelectMany(r => new[] { H($"Question {r}: tell me more."), G(Words(4, 10 * r)) }).ToArray());
        int roundTokens = VicunaTrainingTokens([c.Turns[0], c.Turns[1], c.Turns[2], c.Turns[3]]);
        var options = new SplitOptions { MaxTokens = roundTokens + 20 }; // two rounds fit, three do not
        var result = new ConversationSplitter(Vicuna, options).Split(c);
        Assert.Null(result.DropReason);
        Assert.Equal(["long_0", "long_4", "long_8"], result.Pieces.Select(p => p.Id));
        Assert.All(result.Pieces, p => Assert.InRange(VicunaTrainingTokens(p.Turns), 1, options.MaxTokens));
        Assert.Equal(c.Turns, result.Pieces.SelectMany(p => p.Turns));
    }

    [SharedDataFact(TokenizerFile)]
    public void FittingConversation_KeepsItsId_AndSystemTurnIsRepeatedInEveryPiece()
    {
        var splitter = new ConversationSplitter(Vicuna, new SplitOptions { MaxTokens = 2048 });
        var small = Of("small", H("Hi"), G("Hello!"));
        var whole = Assert.Single(splitter.Split(small).Pieces);
        Assert.Equal("small", whole.Id);
        Assert.Equal(small.Turns, whole.Turns);

        var c = Of("sys", S("Answer like a pirate."), H("Q0"), G(Words(6)), H("Q1"), G(Words(6, 6)));
        var pieces = new ConversationSplitter(Vicuna, new SplitOptions { MaxTokens = VicunaTrainingTokens([c.Turns[0], c.Turns[1], c.Turns[2]]) + 16 }).Split(c).Pieces;
        Assert.Equal(["sys_1", "sys_3"], pieces.Select(p => p.Id));
        Assert.All(pieces, p => Assert.Equal(c.Turns[0], p.Turns[0]));
        Assert.Equal(3, pieces[1].Turns.Count);
    }

    [SharedDataFact(TokenizerFile)]
    public void OverlongRound_Drop_KeepsTheRoundsAroundIt()
    {
        var c = Of("x", H("short 1"), G("ok 1"), H("Paste:"), G(Words(60)), H("short 2"), G("ok 2"));
        var result = new ConversationSplitter(Vicuna, new SplitOptions { MaxTokens = 256 }).Split(c);
        Assert.Equal(1, result.RoundsDropped);
        Assert.Equal(["x_0", "x_4"], result.Pieces.Select(p => p.Id));
        Assert.Equal([c.Turns[0], c.Turns[1]], result.Pieces[0].Turns);
        Assert.Equal([c.Turns[4], c.Turns[5]], result.Pieces[1].Turns);
    }

    [SharedDataFact(TokenizerFile)]
    public void OverlongRound_Truncate_CutsTheAnswerToFit()
    {
        string answer = Words(60);
        var c = Of("x", H("Paste:"), G(answer));
        const int max = 256;
        var result = new ConversationSplitter(Vicuna, new SplitOptions { MaxTokens = max, Overlong = OverlongRound.Truncate }).Split(c);
        Assert.Equal(1, result.AnswersTruncated);
        var piece = Assert.Single(result.Pieces);
        string cut = piece.Turns[1].Value;
        Assert.StartsWith(cut, answer);
        Assert.True(cut.Length < answer.Length);
        Assert.InRange(VicunaTrainingTokens(piece.Turns), max - 24, max); // cut close to the budget, not just anywhere below it
    }

    [SharedDataFact(TokenizerFile)]
    public void QuestionAloneTooLong_IsDroppedEvenWhenTruncating()
    {
        var c = Of("x", H(Words(60)), G("ok"));
        var result = new ConversationSplitter(Vicuna, new SplitOptions { MaxTokens = 256, Overlong = OverlongRound.Truncate }).Split(c);
        Assert.Equal(ConversationSplitter.AllRoundsTooLong, result.DropReason);
        Assert.Equal(1, result.RoundsDropped);
    }

    [SharedDataFact(TokenizerFile)]
    public void UnalternatingOrAnswerless_AreDropped()
    {
        var splitter = new ConversationSplitter(Vicuna, new SplitOptions());
        Assert.Equal(ConversationSplitter.NotAlternating, splitter.Split(Of("x", H("a"), H("b"), G("c"))).DropReason);
        Assert.Equal(ConversationSplitter.NoRound, splitter.Split(Of("x", H("a"))).DropReason);
        var trailing = splitter.Split(Of("x", H("a"), G("b"), H("c")));
        Assert.True(trailing.TrailingHumanTurnRemoved);
        Assert.Equal(2, Assert.Single(trailing.Pieces).Turns.Count);
    }

    [SharedDataFact(TokenizerFile, Conv.DummyFile)]
    public async Task DummyFile_SmallLimit_EveryPieceFits_AndRoundsAreConserved()
    {
        const int max = 128;
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "split.json");
        var input = DataFile.Read<ShareGptConversation>(TestPaths.Shared(Conv.DummyFile)).ToList();
        var report = await ShareGptSplitting.RunAsync(TestPaths.Shared(Conv.DummyFile), output, new ConversationSplitter(Vicuna, new SplitOptions { MaxTokens = max }));
        var pieces = DataFile.Read<ShareGptConversation>(output).ToList();
        Assert.Equal(500, report.Read);
        Assert.Equal(pieces.Count, report.Written);
        Assert.True(report.Notes.GetValueOrDefault("conversations split") > 0, report.Format("conversations", "pieces"));
        Assert.All(pieces, p => Assert.InRange(VicunaTrainingTokens(p.Turns), 1, max));
        int rounds = input.Sum(c => c.Turns.Count / 2);
        Assert.Equal(rounds, pieces.Sum(p => p.Turns.Count / 2) + report.Notes.GetValueOrDefault("rounds longer than the limit dropped"));
        Directory.Delete(dir, true);
    }

    [SharedDataFact(TokenizerFile, Conv.DummyFile)]
    public async Task DummyFile_DefaultLimit_IsUnchanged()
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "split.jsonl");
        await ShareGptSplitting.RunAsync(TestPaths.Shared(Conv.DummyFile), output, new ConversationSplitter(Vicuna, new SplitOptions()));
        Assert.Equal(DataFile.Read<ShareGptConversation>(TestPaths.Shared(Conv.DummyFile)), DataFile.Read<ShareGptConversation>(output), new ConversationComparer());
        Directory.Delete(dir, true);
    }

    sealed class ConversationComparer : IEqualityComparer<ShareGptConversation>
    {
        public bool Equals(ShareGptConversation? x, ShareGptConversation? y) => x!.Id == y!.Id && x.Turns.SequenceEqual(y.Turns);
        public int GetHashCode(ShareGptConversation c) => c.Id.GetHashCode();
    }
}
