using System.Runtime.CompilerServices;

// The kernel benchmarks time Attention on its own, without a whole forward pass around it.
[assembly: InternalsVisibleTo("Camelid.Benchmarks")]
// Attention's decode path is checked against a naive reference on its own.
[assembly: InternalsVisibleTo("Camelid.Model.Tests")]
