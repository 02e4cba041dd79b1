"""The LLMD4Rec training engine: data, models, distillation and the event stream."""
