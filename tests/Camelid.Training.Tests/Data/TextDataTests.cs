using Camelid.Tests;
using Camelid.Training.Data;
using static Camelid.Training.Tests.Data.DataTestTokenizers;

namespace Camelid.Training.Tests.Data;

/// <summary>Plain text for pretraining, and telling the formats apart.</summary>
public sealed class TextDataTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Documents_split_at_blank_lines_become_one_stream_cut_into_overlapping_fixed_length_sequences()
    {
        const int maxLength = 16;
        string[] documents =
        [
            "Once upon a time there was a little llama.\nIt lived on a hill.",
            "The llama liked green grass and the sun.",
            "One day it met a big old tree near the river, and they talked until the night came.",
        ];
        string path = Write("stories.txt", documents[0] + "\n\n" + documents[1] + "\n   \n\n" + documents[2] + "\n");
        using var data = TrainingData.Prepare([new DataSource(path)], Synthetic, new TrainingDataOptions { MaxLength = maxLength },
                                              Path.Combine(_dir, "train.tokens"));

        // The expected stream: each document as BOS + its tokens + EOS.
        var stream = documents.SelectMany(d => Synthetic.Encode(d, addBos: true).Append(Synthetic.EosId)).ToList();
        var source = data.Report.Sources[0];
        Assert.Equal(TrainingDataFormat.Text, source.Format);
        Assert.Equal(3, source.Read);
        int sequences = (stream.Count - 1 + maxLength - 1) / maxLength;
        Assert.Equal(sequences, data.Train.Count);
        for (int s = 0; s < sequences; s++)
        {
            var (tokens, trained) = data.Train[s];
            // Sequence s covers stream[16 s .. 16 s + 16]: its first token is the previous one's last.
            Assert.Equal(stream.Skip(maxLength * s).Take(maxLength + 1), tokens);
            Assert.False(trained[0]);
            Assert.All(trained[1..], Assert.True);
        }
        Assert.Equal(stream.Count - 1, source.TrainedTokens); // every token after the first is a target exactly once
        Assert.Equal(0, source.Truncated);
    }

    [Fact]
    public void A_folder_of_text_files_is_read_in_path_order_one_document_per_file_when_asked()
    {
        Write("corpus/b.txt", "Second file.\n\nStill the second file.");
        Write("corpus/a.txt", "First file.");
        Write("corpus/notes.md", "Not a .txt file, not read.");
        var options = new TrainingDataOptions { MaxLength = 512, TextSplit = TextDocumentSplit.File, EndDocumentsWithEos = false };
        using var data = TrainingData.Prepare([new DataSource(Path.Combine(_dir, "corpus"))], Synthetic, options, Path.Combine(_dir, "train.tokens"));
        var expected = Synthetic.Encode("First file.", addBos: true).Concat(Synthetic.Encode("Second file.\n\nStill the second file.", addBos: true));
        Assert.Equal(expected, data.Train[0].Tokens);
        Assert.Equal(2, data.Report.Sources[0].Read);
    }

    [Fact]
    public void Formats_are_detected_from_the_extension_and_the_first_record()
    {
        Assert.Equal(TrainingDataFormat.Alpaca, TrainingDataFormats.Detect(Write("a.json", """[{"instruction": "i", "input": "", "output": "o"}]""")));
        Assert.Equal(TrainingDataFormat.ShareGpt, TrainingDataFormats.Detect(Write("s.json", """[{"id": "x", "conversations": []}]""")));
        Assert.Equal(TrainingDataFormat.Messages, TrainingDataFormats.Detect(Write("m.jsonl", """{"messages": [{"role": "user", "content": "hi"}]}""" + "\n")));
        Assert.Equal(TrainingDataFormat.Alpaca, TrainingDataFormats.Detect(Write("a.data", """ {"instruction": "i", "output": "o"}""")));
        Assert.Equal(TrainingDataFormat.Text, TrainingDataFormats.Detect(Write("t.txt", """{"instruction": "looks like JSON but is a .txt"}""")));
        Assert.Equal(TrainingDataFormat.Text, TrainingDataFormats.Detect(Write("plain.data", "Just some prose.")));
        Assert.Equal(TrainingDataFormat.Text, TrainingDataFormats.Detect(_dir));
        Assert.Contains("give the format explicitly", Assert.ThrowsAny<IOException>(() => TrainingDataFormats.Detect(Write("o.json", """[{"question": "?"}]"""))).Message);
        Assert.Throws<FileNotFoundException>(() => TrainingDataFormats.Detect(Path.Combine(_dir, "missing.json")));

        Assert.Equal(TrainingDataFormat.ShareGpt, TrainingDataFormats.Parse("ShareGPT"));
        Assert.Equal(TrainingDataFormat.Auto, TrainingDataFormats.Parse("auto"));
        Assert.Throws<ArgumentException>(() => TrainingDataFormats.Parse("csv"));
    }

    [Fact]
    public void A_record_of_another_format_than_its_source_is_an_invalid_example()
    {
        string path = Write("mixed.jsonl",
            """{"instruction": "Say hi.", "input": "", "output": "Hi!"}""" + "\n" +
            """{"id": "odd_one", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}""" + "\n");
        var error = Assert.Throws<InvalidExampleException>(() =>
            TrainingData.Prepare([new DataSource(path)], Synthetic, new TrainingDataOptions { MaxLength = 256 }, Path.Combine(_dir, "train.tokens")));
        Assert.Equal("odd_one", error.ExampleId);
        Assert.Contains("ShareGpt record in Alpaca data", error.Message);
    }

    [Fact]
    public void Several_sources_are_reported_one_by_one()
    {
        string alpaca = Write("a.jsonl", """{"instruction": "Say hi.", "input": "", "output": "Hi!"}""" + "\n");
        string text = Write("t.txt", "Some text.");
        using var data = TrainingData.Prepare([new DataSource(alpaca, QualityTag: "[good]"), new DataSource(text)], Synthetic,
                                              new TrainingDataOptions { MaxLength = 256 }, Path.Combine(_dir, "train.tokens"));
        Assert.Equal([TrainingDataFormat.Alpaca, TrainingDataFormat.Text], data.Report.Sources.Select(s => s.Format));
        Assert.Equal(2, data.Report.Examples);
        Assert.Equal(data.Report.Sources.Sum(s => s.Tokens), data.Report.Tokens);
        string summary = data.Report.Describe();
        Assert.Contains("tag [good]", summary);
        Assert.Contains("2 examples, 0 skipped, 0 truncated to 256 positions", summary);
    }
}
