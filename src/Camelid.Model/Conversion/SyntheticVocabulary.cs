// A SentencePiece-BPE (LLaMA) vocabulary built without any download, laid out like LLaMA's tokenizer.model:
//   0 <unk> (UNKNOWN), 1 <s>, 2 </s> (CONTROL), 3..258 <0x00>..<0xFF> (BYTE, for byte fallback),
//   then merged pieces in merge order ("▁t", "he", "▁the", ...), then single characters ("▁", "e", "t", ...).
// Merged pieces come from byte-pair-encoding training on a built-in list of ~1000 common English words weighted
// by a Zipf law (rank r weighs 1/(r+10)), with a capitalised copy of each word and common word endings; so
// "▁the", "▁and", "ing" exist and every piece can be formed by merging two smaller ones, as in a trained
// vocabulary. The words give ~3300 merges; larger vocabularies (LLaMA's 32000) continue with inflected words
// ("▁play" + "ed", "▁Kind" + "ness"), frequent words and endings first, then word-start + word-inner pieces.
// Scores fall by one per piece in that order (the characters last), which is what the tokenizer's merge priority
// reads. The same size always gives the same vocabulary, and a smaller one's merged pieces are the first of a larger one's.
namespace Camelid.Model.Conversion;

/// <summary>Pieces, scores and GGUF token types (1 normal, 2 unknown, 3 control, 6 byte) of a synthetic LLaMA vocabulary.</summary>
public sealed record SyntheticVocabulary(string[] Tokens, float[] Scores, int[] TokenTypes)
{
    public const int UnknownId = 0, BosId = 1, EosId = 2;
    const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeByte = 6;
    const char Space = '\u2581';

    /// <summary>&lt;unk&gt;, &lt;s&gt;, &lt;/s&gt; and the 256 byte tokens.</summary>
    public const int MinimumSize = 3 + 256;

    /// <summary>Characters every vocabulary large enough has as pieces (LLaMA's has these and more).</summary>
    const string Alphabet = "\u2581etaoinshrdlucmfwypvbgkjqxzTAOISHWMBCDLNPRFGEYJKUVQXZ0123456789.,!?'\"-:;()";

    public int Count => Tokens.Length;

    public static SyntheticVocabulary Create(int size)
    {
        if (size < MinimumSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"a LLaMA vocabulary needs at least {MinimumSize} tokens (<unk>, <s>, </s> and 256 byte tokens)");
        var tokens = new List<string>(size) { "<unk>", "<s>", "</s>" };
        var types = new List<int>(size) { TypeUnknown, TypeControl, TypeControl };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(TypeByte);
        }

        int room = size - MinimumSize;
        var characters = Alphabet.Select(c => c.ToString()).Take(room).ToList();
        var pieces = new List<string>(room - characters.Count);
        var seen = new HashSet<string>(characters, StringComparer.Ordinal);
        int limit = room - characters.Count;
        TrainMerges(limit, pieces, seen);
        if (pieces.Count < limit)
            AddInflections(limit, pieces, seen);
        if (pieces.Count < limit)
            AddCompounds(limit, pieces, seen);

        var scores = new float[size];
        int rank = 0;
        foreach (var piece in pieces.Concat(characters))
        {
            tokens.Add(piece);
            types.Add(TypeNormal);
            scores[tokens.Count - 1] = -rank++;
        }
        return new SyntheticVocabulary(tokens.ToArray(), scores, types.ToArray());
    }

    /// <summary>Byte-pair merges, most frequent pair first (ties: the lexically smallest), until <paramref name="limit"/> pieces.</summary>
    static void TrainMerges(int limit, List<string> pieces, HashSet<string> seen)
    {
        // Symbols are interned as ids so that a pair is one long: (left << 32) | right.
        var symbolIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var symbolText = new List<string>();
        int Intern(string symbol)
        {
            if (!symbolIds.TryGetValue(symbol, out int id))
            {
                id = symbolText.Count;
                symbolIds.Add(symbol, id);
                symbolText.Add(symbol);
            }
            return id;
        }
        var corpus = TrainingWords().Select(w => (Symbols: w.Text.Select(c => Intern(c.ToString())).ToList(), w.Weight)).ToList();

        var counts = new Dictionary<long, long>();
        while (pieces.Count < limit)
        {
            counts.Clear();
            foreach (var (symbols, weight) in corpus)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    counts[((long)symbols[i] << 32) | (uint)symbols[i + 1]] = counts.GetValueOrDefault(((long)symbols[i] << 32) | (uint)symbols[i + 1]) + weight;
            if (counts.Count == 0)
                return;
            long best = 0, bestCount = -1;
            string bestText = "";
            foreach (var (pair, count) in counts)
            {
                if (count < bestCount)
                    continue;
                string text = symbolText[(int)(pair >> 32)] + symbolText[(int)(uint)pair];
                if (count > bestCount || string.CompareOrdinal(text, bestText) < 0)
                    (best, bestCount, bestText) = (pair, count, text);
            }
            int left = (int)(best >> 32), right = (int)(uint)best, merged = Intern(bestText);
            foreach (var (symbols, _) in corpus)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
            if (seen.Add(bestText))
                pieces.Add(bestText);
        }
    }

    /// <summary>The BPE training text: each word as "▁word" and "▁Word" (a quarter as often), and the word
    /// endings on their own, so that the pieces <see cref="AddInflections"/> joins to words exist.</summary>
    static IEnumerable<(string Text, long Weight)> TrainingWords()
    {
        var words = Words();
        for (int r = 0; r < words.Length; r++)
        {
            long weight = 1_000_000 / (r + 10);
            yield return ($"{Space}{words[r]}", weight);
            yield return ($"{Space}{Capitalized(words[r])}", weight / 4);
        }
        for (int r = 0; r < Endings.Length; r++)
            yield return (Endings[r], 20_000 / (r + 1));
    }

    static string[] Words() => CommonWords.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct().ToArray();

    static string Capitalized(string word) => $"{char.ToUpperInvariant(word[0])}{word[1..]}";

    /// <summary>
    /// Inflected words, "▁play" + "ed", ordered by (word rank + 10) · (ending rank + 1), four times later for the
    /// capitalised form: frequent words take many endings, rare ones only "s" and "ed".
    /// </summary>
    static void AddInflections(int limit, List<string> pieces, HashSet<string> seen)
    {
        var words = Words();
        var candidates =
            from capitalised in new[] { false, true }
            from w in Enumerable.Range(0, words.Length)
            from e in Enumerable.Range(0, Endings.Length)
            orderby (w + 10L) * (e + 1) * (capitalised ? 4 : 1), w, e, capitalised
            select $"{Space}{(capitalised ? Capitalized(words[w]) : words[w])}{Endings[e]}";
        foreach (var candidate in candidates)
        {
            if (pieces.Count >= limit)
                return;
            if (seen.Add(candidate))
                pieces.Add(candidate);
        }
    }

    /// <summary>Word-start piece + word-inner piece for vocabularies larger than the word list can fill; both
    /// halves are pieces, so the compound forms by one merge.</summary>
    static void AddCompounds(int limit, List<string> pieces, HashSet<string> seen)
    {
        var starts = pieces.Where(p => p[0] == Space && p.Length > 1).ToList();
        var inners = pieces.Where(p => p[0] != Space).ToList();
        for (int sum = 0; pieces.Count < limit && sum <= starts.Count + inners.Count - 2; sum++)
            for (int i = Math.Max(0, sum - inners.Count + 1); i <= Math.Min(sum, starts.Count - 1) && pieces.Count < limit; i++)
            {
                string candidate = starts[i] + inners[sum - i];
                if (candidate.Length <= 16 && seen.Add(candidate))
                    pieces.Add(candidate);
            }
        if (pieces.Count < limit)
            throw new ArgumentOutOfRangeException(nameof(limit), $"a synthetic vocabulary of this size cannot be built (ran out of pieces after {pieces.Count + MinimumSize + Alphabet.Length})");
    }

    /// <summary>English word endings, most common first.</summary>
    static readonly string[] Endings = ["s", "ed", "ing", "er", "ly", "es", "y", "ers", "est", "ness", "ful", "less", "able", "ment", "ings", "ish", "en", "al", "ic", "ion"];

    // Common English words, most frequent first (general frequency lists blended with the words of simple stories).
    const string CommonWords =
        "the of and to a in is it you that he was for on are with as i his they be at one have this from or had by " +
        "not word but what some we can out other were all there when up use your how said an each she which do their " +
        "time if will way about many then them write would like so these her long make thing see him two has look more " +
        "day could go come did number sound no most people my over know water than call first who may down side been " +
        "now find any new work part take get place made live where after back little only round man year came show " +
        "every good me give our under name very through just form sentence great think say help low line differ turn " +
        "cause much mean before move right boy old too same tell does set three want air well also play small end put " +
        "home read hand port large spell add even land here must big high such follow act why ask men change went " +
        "light kind off need house picture try us again animal point mother world near build self earth father head " +
        "stand own page should country found answer school grow study still learn plant cover food sun four between " +
        "state keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late " +
        "run while press close night real life few north open seem together next white children begin got walk " +
        "example ease paper group always music those both mark often letter until mile river car feet care second book " +
        "carry took science eat room friend began idea fish mountain stop once base hear horse cut sure watch color " +
        "face wood main enough plain girl usual young ready above ever red list though feel talk bird soon body dog " +
        "family direct pose leave song measure door product black short numeral class wind question happen complete " +
        "ship area half rock order fire south problem piece told knew pass since top whole king space heard best hour " +
        "better true during hundred five remember step early hold west ground interest reach fast verb sing listen six " +
        "table travel less morning ten simple several vowel toward war lay against pattern slow center love person " +
        "money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall lead " +
        "cry dark machine note wait plan figure star box noun field rest correct able pound done beauty drive stood " +
        "contain front teach week final gave green quick develop ocean warm free minute strong special mind behind " +
        "clear tail produce fact street inch multiply nothing course stay wheel full force blue object decide surface " +
        "deep moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand " +
        "ago ran check game shape equate miss brought heat snow tire bring yes distant fill east paint language among " +
        "grand ball yet wave drop heart present heavy dance engine position arm wide sail material size vary settle " +
        "speak weight general ice matter circle pair include divide syllable felt perhaps pick sudden count square " +
        "reason length represent art subject region energy hunt probable bed brother egg ride cell believe fraction " +
        "forest sit race window store summer train sleep prove lone exercise wall catch mount wish sky board joy winter " +
        "sat written wild instrument kept glass grass cow job edge sign visit past soft fun bright gas weather month " +
        "million bear finish happy hope flower clothe strange gone jump baby eight village meet root buy raise solve " +
        "metal whether push seven paragraph third shall held hair describe cook floor either result burn hill safe cat " +
        "century consider type law bit coast copy phrase silent tall sand soil roll temperature finger industry value " +
        "fight lie beat excite natural view sense ear else quite broke case middle kill son lake moment scale loud " +
        "spring observe child straight consonant nation dictionary milk speed method organ pay age section dress cloud " +
        "surprise quiet stone tiny climb cool design poor lot experiment bottom key iron single stick flat twenty skin " +
        "smile crease hole trade melody trip office receive row mouth exact symbol die least trouble shout except wrote " +
        "seed tone join suggest clean break lady yard rise bad blow oil blood touch grew cent mix team wire cost lost " +
        "brown wear garden equal sent choose fell fit flow fair bank collect save control decimal gentle woman captain " +
        "practice separate difficult doctor please protect noon whose locate ring character insect caught period " +
        "indicate radio spoke atom human history effect electric expect crop modern element hit student corner party " +
        "supply bone rail imagine provide agree thus capital chair danger fruit rich thick soldier process operate guess " +
        "necessary sharp wing create neighbor wash bat rather crowd corn compare poem string bell depend meat rub tube " +
        "famous dollar stream fear sight thin triangle planet hurry chief colony clock mine tie enter major fresh search " +
        "send yellow gun allow print dead spot desert suit current lift rose continue block chart hat sell success " +
        "company subtract event particular deal swim term opposite wife shoe shoulder spread arrange camp invent cotton " +
        "born determine quart nine truck noise level chance gather shop stretch throw shine property column molecule " +
        "select wrong gray repeat require broad prepare salt nose plural anger claim continent oxygen sugar death pretty " +
        "skill women season solution magnet silver thank branch match suffix especially fig afraid huge sister steel " +
        "discuss forward similar guide experience score apple bought led pitch coat mass card band rope slip win dream " +
        "evening condition feed tool total basic smell valley nor double seat arrive master track parent shore division " +
        "sheet substance favor connect post spend chord fat glad original share station dad bread charge proper bar " +
        "offer segment slave duck instant market degree populate chick dear enemy reply drink occur support speech " +
        "nature range steam motion path liquid log meant quotient teeth shell neck once upon lily timmy tom sam mom " +
        "toy toys park ball sad scared smiled looked wanted played saw went said asked replied happy friends together " +
        "day something everything nice kind little big very wanted loved named decided started found helped shared " +
        "because outside inside around again always tried jumped ran cried laughed hugged thanked learned felt knew";
}
