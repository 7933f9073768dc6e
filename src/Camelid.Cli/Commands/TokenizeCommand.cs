using System.CommandLine;
using System.Text;
using Camelid.Model;

namespace Camelid.Cli.Commands;

/// <summary>`camelid tokenize --model MODEL [--json] [--no-bos] (TEXT | --file PATH)`.</summary>
static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var json = new Option<bool>("--json") { Description = "Print only a JSON array of token ids" };
        var noBos = new Option<bool>("--no-bos") { Description = "Do not add the BOS token (default: follow the model's add-BOS setting)" };
        var file = new Option<string?>("--file", "-f") { Description = "Read the text byte-exactly from a UTF-8 file" };
        var text = new Argument<string?>("TEXT") { Description = "Text to tokenize", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("tokenize", "Show the token ids and pieces of a text") { model, tokenizer, json, noBos, file, text };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            string input = ReadInput(parse.GetValue(text), parse.GetValue(file));
            var tok = LlamaModel.LoadTokenizer(parse.GetValue(model)!, parse.GetValue(tokenizer));
            int[] ids = tok.Encode(input, addBos: tok.AddBosByDefault && !parse.GetValue(noBos));
            using var stdout = CommonOptions.StandardOutput();
            if (parse.GetValue(json))
                stdout.WriteLine("[" + string.Join(",", ids) + "]");
            else
                foreach (int id in ids)
                    stdout.WriteLine($"{id,6} -> '{tok.TokenPiece(id)}'");
            return Task.FromResult(0);
        }));
        return command;
    }

    static string ReadInput(string? text, string? file)
    {
        if (text != null && file != null)
            throw new ArgumentException("give either TEXT or --file, not both");
        if (file == null)
            return text ?? throw new ArgumentException("nothing to tokenize: give TEXT or --file PATH");
        if (!File.Exists(file))
            throw new IOException($"{file}: file not found");
        // Strict UTF-8 so invalid bytes are reported, and no BOM stripping or trimming: the text is the file's bytes.
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        try
        {
            return utf8.GetString(File.ReadAllBytes(file));
        }
        catch (DecoderFallbackException)
        {
            throw new ArgumentException($"{file}: not valid UTF-8 text");
        }
    }
}
