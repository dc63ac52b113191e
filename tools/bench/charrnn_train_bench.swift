// Times `trainCharRNN` in a release build: 1,000 iterations of the article cases' model (the three-pangram
// text, V = 30, H = 32, seq_length 25, clip 5, lr halving every 250 iterations), best of three, wall and
// process CPU time. Not part of the package; build it against the release objects of RNNKernels:
//
//   swift build -c release --target RNNKernels
//   R=.build/x86_64-unknown-linux-gnu/release
//   swiftc -O -wmo tools/bench/charrnn_train_bench.swift -I $R/Modules $R/RNNKernels.build/*.o \
//       $R/RNNKernelsSIMD.build/*.o -o /tmp/charrnn-bench && /tmp/charrnn-bench
//
// The NumPy side: python3 tools/reference/charrnn_train.py --time 1000.
import Foundation
import RNNKernels
#if canImport(Glibc)
import Glibc
#endif

let text = "the quick brown fox jumps over the lazy dog.\npack my box with five dozen liquor jugs.\nhow vexingly quick daft zebras jump!\n"
let vocab = sortedVocabulary(text)
guard case .success(let data) = characterIndices(text, vocab: vocab) else { fatalError("the text is its own vocabulary") }

func now(_ clock: clockid_t) -> Double {
    var t = timespec()
    clock_gettime(clock, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func measure<T: KernelScalar>(_ name: String, _: T.Type, _ optimizer: CharRNNOptimizer, _ lr: Double) {
    var best = (wall: Double.infinity, cpu: Double.infinity)
    var last: T = 0
    for _ in 0..<3 {
        let w0 = CharRNNWeights<T>(articleInitVocabSize: vocab.count, hiddenSize: 32, seed: 42)
        let config = CharRNNTrainingConfig<T>(seqLength: 25, iterations: 1000, optimizer: optimizer, baseLR: lr,
                                              decayRate: 0.5, decaySteps: 250, clipNorm: 5)
        let (wall, cpu) = (now(CLOCK_MONOTONIC), now(CLOCK_PROCESS_CPUTIME_ID))
        let r = trainCharRNN(data: data, initial: w0, config: config)
        best = (min(best.wall, now(CLOCK_MONOTONIC) - wall), min(best.cpu, now(CLOCK_PROCESS_CPUTIME_ID) - cpu))
        last = r.loss.scalars.last!
    }
    print("\(name): 1000 iterations in \(String(format: "%.3f", best.wall)) s wall, \(String(format: "%.3f", best.cpu)) s CPU (best of 3); last loss \(last)")
}

measure("sgd float64", Double.self, .sgd, 0.1)
measure("adagrad float64", Double.self, .adagrad, 0.05)
measure("adagrad float32", Float.self, .adagrad, 0.05)
